"""Shared fixtures of the browser tests: the served app's URL (one ``streamlit run app.py`` per test module)."""
from __future__ import annotations

import pytest

from harness.browser import ARTIFACTS, REPO_ROOT, streamlit_server


@pytest.fixture(scope="module")
def app_url():
    """The URL of `streamlit run app.py`, started for this test module with the shipped config."""
    ARTIFACTS.mkdir(exist_ok=True)
    with streamlit_server(REPO_ROOT / "app.py") as url:
        yield url
