"""Shared test set-up: offscreen Qt, isolated settings, no network, and study factories."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Before anything imports Qt: no screen, no real sound system, no user settings.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from study.folder import Study, create_study

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT.parent / "shared" / "fixtures"


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory: pytest.TempPathFactory,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own settings folder, so recent studies never leak between tests."""
    monkeypatch.setenv("VERBATIM_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))


@pytest.fixture
def study(tmp_path: Path) -> Iterator[Study]:
    """A new, empty study in a real folder with a real SQLite file."""
    s = create_study(tmp_path / "Test study", name="Test study")
    yield s
    s.close()


@pytest.fixture
def fixtures_dir() -> Path:
    if not FIXTURES.exists():
        pytest.fail(f"The shared fixtures are missing: expected them at {FIXTURES}")
    return FIXTURES


# --- no network ----------------------------------------------------------------------------------
# Verbatim must never reach another machine (DESIGN.md section 7). The guard below refuses
# every attempt before a packet leaves: connect, connect_ex and sendto on an internet
# socket to a non-loopback address, socket.create_connection, and socket.getaddrinfo for a
# name that is not this machine. Unix sockets (PulseAudio, D-Bus) and loopback still work.
# It is kept as source text so the very same code runs in this process (through
# monkeypatch, undone after each test) and in every Python child a test starts, e.g. the
# transcription worker or main.py (through a sitecustomize.py put on PYTHONPATH). Each
# refusal raises NetworkBlockedError and is written to a log the fixture reads after the
# test, so an attempt fails the test even where a library catches the error.

NETWORK_LOG = "VERBATIM_TEST_NETWORK_LOG"

GUARD_SOURCE = '''
import ipaddress
import os
import socket


class NetworkBlockedError(RuntimeError):
    """A test tried to reach another machine: Verbatim must work offline."""


LOCAL_NAMES = {"", "localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback",
               "0.0.0.0", "::"}


def is_local(host):
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    name = str(host).strip().strip("[]").lower().rstrip(".")
    if name in LOCAL_NAMES or name == socket.gethostname().lower():
        return True
    try:
        ip = ipaddress.ip_address(name.split("%")[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


def install(log_path, set_attribute):
    """Put the guard in place with set_attribute(owner, name, value): monkeypatch.setattr
    in the test process, plain setattr in a child."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_sendto = socket.socket.sendto
    real_create_connection = socket.create_connection
    real_getaddrinfo = socket.getaddrinfo

    def refuse(what, target):
        try:
            with open(log_path, "a", encoding="utf-8") as log:
                log.write(f"process {os.getpid()}: {what} {target!r}\\n")
        except OSError:
            pass
        raise NetworkBlockedError(
            f"Network access blocked in tests: {what} {target!r}. Verbatim must work "
            "offline; only loopback and Unix sockets are allowed.")

    def check(sock, address, what):
        if (sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple)
                and address and not is_local(address[0])):
            refuse(what, address)

    def connect(self, address):
        check(self, address, "connect to")
        return real_connect(self, address)

    def connect_ex(self, address):
        check(self, address, "connect_ex to")
        return real_connect_ex(self, address)

    def sendto(self, data, *args):
        check(self, args[-1] if args else None, "sendto")
        return real_sendto(self, data, *args)

    def create_connection(address, *args, **kwargs):
        if not is_local(address[0]):
            refuse("create_connection to", address)
        return real_create_connection(address, *args, **kwargs)

    def getaddrinfo(host, *args, **kwargs):
        if not is_local(host):
            refuse("getaddrinfo for", host)
        return real_getaddrinfo(host, *args, **kwargs)

    for owner, name, value in ((socket.socket, "connect", connect),
                               (socket.socket, "connect_ex", connect_ex),
                               (socket.socket, "sendto", sendto),
                               (socket, "create_connection", create_connection),
                               (socket, "getaddrinfo", getaddrinfo)):
        set_attribute(owner, name, value)
'''

# In a child: install when a test set the log variable, then run any sitecustomize this
# one hides further along the path.
CHILD_SOURCE = GUARD_SOURCE + f'''

def _run_hidden_sitecustomize():
    import importlib.machinery
    import importlib.util
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


if os.environ.get("{NETWORK_LOG}"):
    install(os.environ["{NETWORK_LOG}"], setattr)
_run_hidden_sitecustomize()
'''

_GUARD: dict[str, Any] = {}
exec(compile(GUARD_SOURCE, "<network guard>", "exec"), _GUARD)


@dataclass(frozen=True)
class NetworkGuard:
    """The attempts a test made (in this process and its children), read from the log."""

    log: Path
    error: type[Exception]

    def attempts(self) -> list[str]:
        return self.log.read_text(encoding="utf-8").splitlines() if self.log.exists() else []

    def forget(self) -> None:
        """For the guard's own tests, which make attempts on purpose."""
        self.log.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def _network_guard_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("network-guard")
    (folder / "sitecustomize.py").write_text(CHILD_SOURCE, encoding="utf-8")
    return folder


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch, _network_guard_dir: Path
               ) -> Iterator[NetworkGuard]:
    """Fail any test that tries to reach the network, here or in a child process."""
    log = _network_guard_dir / f"attempts-{uuid.uuid4().hex}.log"
    monkeypatch.setenv(NETWORK_LOG, str(log))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (str(_network_guard_dir), os.environ.get("PYTHONPATH", "")) if p))
    _GUARD["install"](str(log), monkeypatch.setattr)
    guard = NetworkGuard(log, _GUARD["NetworkBlockedError"])
    yield guard
    attempts = guard.attempts()
    guard.forget()
    if attempts:
        pytest.fail("The test tried to reach the network (Verbatim must work offline):\n"
                    + "\n".join(attempts), pytrace=False)
