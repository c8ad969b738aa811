"""The suite runs offline: pytest-socket lets a test connect to loopback only (pyproject's addopts)."""
from __future__ import annotations

import socket

import pytest
from pytest_socket import SocketConnectBlockedError


@pytest.mark.filterwarnings("ignore:A test tried to use socket")
def test_a_connection_to_another_host_is_refused_before_it_leaves():
    # 127.0.0.2 is loopback too, so even if the guard were missing nothing would leave the machine;
    # it is not on the allowed list, so the guard must refuse it.
    with socket.socket() as s, pytest.raises(SocketConnectBlockedError):
        s.connect(("127.0.0.2", 9))


def test_loopback_is_allowed():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
