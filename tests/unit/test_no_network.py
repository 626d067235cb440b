"""The no-network guard of tests/conftest.py: it refuses a connection to another machine
before any packet is sent (here and in child processes) and records it so the test
fails, while loopback and Unix sockets keep working for PulseAudio, D-Bus and the like."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import NetworkGuard

REMOTE = ("93.184.216.34", 80)  # example.com's old address; never actually contacted


def test_connect_to_a_remote_address_is_refused_before_a_packet(
        no_network: NetworkGuard) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setblocking(False)  # were the guard to fail, connect would not wait either
        with pytest.raises(no_network.error, match=r"Network access blocked in tests: "
                           r"connect to \('93\.184\.216\.34', 80\)"):
            sock.connect(REMOTE)
        with pytest.raises(no_network.error):
            sock.connect_ex(REMOTE)
        # A real attempt would have bound the socket to a local port to send from.
        assert sock.getsockname()[1] == 0
        with pytest.raises(OSError):
            sock.getpeername()
    (first, second) = no_network.attempts()
    assert "connect to ('93.184.216.34', 80)" in first and "connect_ex" in second
    no_network.forget()


def udp_to(address: tuple[str, int]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"x", address)


@pytest.mark.parametrize("attempt", [
    lambda: socket.create_connection(REMOTE, timeout=1),
    lambda: socket.create_connection(("example.com", 443), timeout=1),
    lambda: socket.getaddrinfo("example.com", 443),
    lambda: socket.getaddrinfo("2606:2800:220:1::", 80),
    lambda: udp_to(("8.8.8.8", 53)),
])
def test_every_way_out_is_refused(no_network: NetworkGuard, attempt: object) -> None:
    with pytest.raises(no_network.error):
        attempt()  # type: ignore[operator]
    assert len(no_network.attempts()) == 1
    no_network.forget()


def test_an_attempt_a_library_swallows_is_still_recorded(no_network: NetworkGuard) -> None:
    """The fixture fails the test from the log, whatever the code under test caught."""
    with contextlib.suppress(Exception):  # what an over-eager library might do
        socket.create_connection(REMOTE, timeout=1)
    assert no_network.attempts()
    no_network.forget()


def test_a_child_process_is_guarded_too(no_network: NetworkGuard, tmp_path: Path) -> None:
    code = ("import socket\n"
            "socket.create_connection(('93.184.216.34', 80), timeout=1)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=False, cwd=tmp_path)
    assert result.returncode != 0
    assert "NetworkBlockedError: Network access blocked in tests" in result.stderr
    (attempt,) = no_network.attempts()
    assert attempt.startswith("process ") and "93.184.216.34" in attempt
    assert str(os.getpid()) not in attempt.split(":")[0]
    no_network.forget()


def test_loopback_still_works(no_network: NetworkGuard) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        accepted: list[bytes] = []

        def serve() -> None:
            conn, _ = server.accept()
            with conn:
                accepted.append(conn.recv(5))

        thread = threading.Thread(target=serve)
        thread.start()
        with socket.create_connection(("localhost", port), timeout=10) as client:
            client.sendall(b"hello")
        thread.join(timeout=10)
    assert accepted == [b"hello"]
    assert socket.getaddrinfo("127.0.0.1", port)
    assert no_network.attempts() == []


def test_unix_sockets_still_work(no_network: NetworkGuard, tmp_path: Path) -> None:
    a, b = socket.socketpair()
    with a, b:
        a.sendall(b"ping")
        assert b.recv(4) == b"ping"
    path = str(tmp_path / "s")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(path)
            conn, _ = server.accept()
            with conn:
                client.sendall(b"pong")
                assert conn.recv(4) == b"pong"
    assert no_network.attempts() == []
