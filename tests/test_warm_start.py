"""The server's start-up: app.py serves an st.App whose lifespan warms the default view up before the first visitor."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

APP = Path(__file__).resolve().parents[1] / "app.py"


def test_warm_start_compiles_the_default_ladders_and_fills_the_first_pages_caches():
    from ui import resources, theme, warm_start

    seconds = warm_start.warm_start()
    assert seconds > 0
    net, pca = resources.ladder_caches("mnist", "conv")
    assert net.compiled is not None and pca.compiled is not None
    # the page then finds what it needs in the same caches: the main map is the picture warm_start drew
    picture, uri = resources.main_map_picture("mnist", "conv", 32, None)
    assert uri.startswith("data:image/png;base64,") and picture.pixels.shape[:2] == (theme.MAIN_MAP_PX,) * 2
    view = resources.inputs_view("mnist", "conv", resources.reference_for("mnist").images[:1].astype(np.float32),
                                 on_maps={32: None})
    assert view.net.reconstructions.shape == (6, 1, 28, 28)


def test_imported_as_a_module_app_py_is_the_server_and_leaves_the_page_alone():
    """`streamlit run app.py` imports app.py to find `app` (an st.App): that import builds no page and
    imports neither the ui package nor torch (they load in the lifespan, once Streamlit's runtime exists)."""
    code = ("import importlib.util, sys\n"
            f"spec = importlib.util.spec_from_file_location('app', {str(APP)!r})\n"
            "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
            "import streamlit as st\n"
            "print(isinstance(module.app, st.App), 'ui' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=APP.parent)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["True", "False", "False"]


@pytest.mark.slow  # a process of its own that imports torch, Streamlit and the page: ~10 s on a busy machine
def test_importing_the_page_changes_nothing_in_the_process_and_the_server_set_up_does():
    """The process-wide settings are ui.server.configure_process's, called by the warm start, not an import's."""
    code = ("import sys, torch\n"
            "before = (torch.get_num_threads(), sys.getswitchinterval())\n"
            "from ui import features, resources, sidebar, workbench\n"
            "from ui.demos import anomaly, arithmetic, denoise, generate, learn_live\n"
            "print(before == (torch.get_num_threads(), sys.getswitchinterval()))\n"
            "from ui import server\n"
            "server.configure_process()\n"
            "print(torch.get_num_threads(), sys.getswitchinterval())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=APP.parent)
    assert out.returncode == 0, out.stderr[-2000:]
    unchanged, after = out.stdout.strip().splitlines()[-2:]
    assert unchanged == "True" and after.split() == ["1", "0.001"]
