"""One visitor's state has one home: ui/state.py. No other ui module touches st.session_state."""
from __future__ import annotations

import ast
from pathlib import Path

from ae_demo.preprocess import Prepared
from ui.state import InputItem, InputKind, Visitor

UI = Path(__file__).resolve().parents[1] / "ui"


def session_state_uses(path: Path) -> list[int]:
    """Lines of ``path`` that name ``session_state`` (``st.session_state``, or the name imported on its own)."""
    tree = ast.parse(path.read_text(), str(path))
    lines = [node.lineno for node in ast.walk(tree)
             if isinstance(node, ast.Attribute) and node.attr == "session_state"
             or isinstance(node, ast.Name) and node.id == "session_state"]
    lines += [node.lineno for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
              and any(alias.name == "session_state" for alias in node.names)]
    return sorted(lines)


def test_session_state_uses_sees_every_spelling(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import streamlit as st\nfrom streamlit import session_state\n"
                      "st.session_state['a'] = 1\nsession_state.get('b')\n")
    assert session_state_uses(module) == [2, 3, 4]


def test_no_ui_module_but_state_touches_session_state():
    found = {str(path.relative_to(UI.parent)): lines for path in sorted(UI.rglob("*.py"))
             if path.name != "state.py" or path.parent != UI
             if (lines := session_state_uses(path))}
    assert found == {}, "use ui.state.visitor() or ui.state.widget(...) instead"


def _item(kind: InputKind, name: str, file_id: str | None = None) -> InputItem:
    import numpy as np

    return InputItem.make(kind, name, Prepared(raw=None, image=np.zeros((28, 28), np.float32), notes=()), file_id)


def test_a_visitor_keeps_its_inputs_in_order_and_falls_back_to_the_sample():
    visitor = Visitor()
    visitor.remember(_item(InputKind.SAMPLE, "Sample #0 (7)"))
    visitor.remember(_item(InputKind.UPLOAD, "a.png", "f1"), make_current=True)
    visitor.remember(_item(InputKind.DRAWING, "Drawing"))
    assert [i.name for i in visitor.items()] == ["Sample #0 (7)", "a.png", "Drawing"]
    assert visitor.current_item().name == "a.png" and visitor.current_column() == 1
    visitor.forget("upload:f1")
    assert visitor.current_item().kind is InputKind.SAMPLE and visitor.current_column() == 0
    assert [i.name for i in visitor.items_of(InputKind.DRAWING)] == ["Drawing"]


def test_a_canvas_or_photo_is_read_once():
    visitor = Visitor()
    assert not visitor.seen_canvas("abc") and visitor.seen_canvas("abc") and not visitor.seen_canvas("def")
    assert not visitor.seen_camera("p1") and visitor.seen_camera("p1")


def test_two_visitors_share_nothing():
    one, two = Visitor(), Visitor()
    one.remember(_item(InputKind.DRAWING, "Drawing"))
    one.upload_errors["x.png"] = "no"
    assert two.inputs == {} and two.upload_errors == {} and one.id != two.id
