"""The charter's import boundaries: ``ae_demo`` never imports streamlit (it runs from a notebook, a CLI or a
test just the same); ``ui`` never imports torch (the page lays out, ``ae_demo`` computes)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def imported_roots(path: Path) -> set[str]:
    """The top-level packages that the module at ``path`` imports anywhere in it (also inside functions)."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def modules_importing(package: str, forbidden: set[str]) -> dict[str, set[str]]:
    """file (relative to the repository) -> the forbidden packages it imports, for every module of ``package``."""
    found = {}
    for path in sorted((REPO_ROOT / package).rglob("*.py")):
        if bad := imported_roots(path) & forbidden:
            found[str(path.relative_to(REPO_ROOT))] = bad
    return found


def test_imported_roots_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import os\ndef f():\n    from streamlit.testing import v1\n    import torch.nn as nn\n")
    assert imported_roots(module) == {"os", "streamlit", "torch"}


def test_ae_demo_never_imports_streamlit():
    assert modules_importing("ae_demo", {"streamlit"}) == {}


@pytest.mark.slow  # a process of its own that imports torch, umap and the rest: ~10 s on a busy machine
def test_importing_every_ae_demo_module_loads_no_streamlit():
    """Also what the modules import in turn: a third-party package of ae_demo's must not pull streamlit in."""
    names = sorted(f"ae_demo.{p.stem}" for p in (REPO_ROOT / "ae_demo").glob("*.py") if p.stem != "__main__")
    code = (f"import importlib, sys\nfor name in {names!r}:\n    importlib.import_module(name)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'streamlit'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_ui_never_imports_torch():
    """The page lays out; every computation it shows runs in ae_demo (the charter's "the page does not compute")."""
    assert modules_importing("ui", {"torch", "torchvision"}) == {}
