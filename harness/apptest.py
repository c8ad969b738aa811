"""What the AppTest-based tests ask of a page run (streamlit.testing.v1) beyond what AppTest offers."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest


def has_container(at: AppTest, key: str) -> bool:
    """Whether the run drew an element or container with ``key`` (AppTest's get_by_key raises when not)."""
    try:
        at.get_by_key(key)
    except KeyError:
        return False
    return True
