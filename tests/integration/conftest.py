"""A private PulseAudio server with a virtual microphone, for the recording tests.

The recipe is shared/TESTING-AUDIO.md: a child pulseaudio with its own runtime folders,
a null sink and a pipe source `mic` fed from a FIFO. The recording itself runs in a
child Python process started with the server's environment. Qt's multimedia backend
connects to a sound server once, on the first use of QMediaDevices in a process, and
never again (checked: a server started later is never seen). In the test process that
first use may already have happened (the player in any GUI test), bound to no server or
to the developer's real one, so only a fresh process is reliably on the private server.
Setting the variables session-wide before the QApplication exists would instead re-route
every other test's audio and make them depend on whether this folder was collected.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RATE = 16_000
CHUNK_BYTES = 1_600  # 50 ms of 16 kHz s16le mono
CHUNK_SECONDS = 0.05
START_TIMEOUT = 20.0
# Variables that could send a client to another sound server or backend.
_FOREIGN = ("PULSE_SERVER", "PULSE_SINK", "PULSE_SOURCE", "QT_AUDIO_BACKEND",
            "QT_MEDIA_BACKEND")


def pulse_missing() -> str | None:
    for tool in ("pulseaudio", "pactl"):
        if shutil.which(tool) is None:
            return (f"{tool} is not installed (apt-get install pulseaudio); the recording "
                    "tests need a real, private audio server")
    return None


@dataclass
class PulseServer:
    base: Path
    process: subprocess.Popen[bytes]
    with_mic: bool
    log: IO[bytes]

    @property
    def runtime(self) -> Path:
        return self.base / "pulse"

    @property
    def fifo(self) -> Path:
        return self.runtime / "mic.fifo"

    def env(self) -> dict[str, str]:
        """The environment for a process that should use this server (and only it)."""
        env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
        env.update(
            XDG_RUNTIME_DIR=str(self.base / "xdg"), PULSE_RUNTIME_PATH=str(self.runtime),
            PULSE_CLIENTCONFIG=str(self.base / "client.conf"), QT_QPA_PLATFORM="offscreen",
            PYTHONWARNINGS="error", PYTHONPATH=os.pathsep.join(
                p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p))
        return env

    def pactl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["pactl", *args], env=self.env(), capture_output=True,
                              text=True, timeout=10, check=False)

    def sources(self) -> list[str]:
        result = self.pactl("list", "short", "sources")
        return [line.split("\t")[1] for line in result.stdout.splitlines() if "\t" in line]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.base, ignore_errors=True)


def start_pulse(*, with_mic: bool = True) -> PulseServer:
    # Short paths: the server's socket must fit the 108-byte limit of a Unix socket name.
    base = Path(tempfile.mkdtemp(prefix="vb-pulse-"))
    for sub in ("xdg", "pulse"):
        (base / sub).mkdir(mode=0o700)
    # Never autospawn a real daemon if this server is gone; never read a user's client.conf.
    (base / "client.conf").write_text("autospawn = no\n")
    modules = ["--load=module-native-protocol-unix",
               "--load=module-null-sink sink_name=speaker"]
    if with_mic:
        modules.append(f"--load=module-pipe-source source_name=mic file={base}/pulse/mic.fifo"
                       f" format=s16le rate={RATE} channels=1")
    log = (base / "pulseaudio.log").open("wb")
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
    env.update(XDG_RUNTIME_DIR=str(base / "xdg"), PULSE_RUNTIME_PATH=str(base / "pulse"))
    process = subprocess.Popen(
        ["pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "-n", "--disable-shm=yes",
         *modules], env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = PulseServer(base, process, with_mic, log)
    wanted = "mic" if with_mic else "speaker.monitor"
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while wanted not in server.sources():
            if time.monotonic() > deadline:
                raise RuntimeError(f"PulseAudio did not offer {wanted!r} within "
                                   f"{START_TIMEOUT:.0f} s")
            try:  # poll: a short wait that also notices the server dying
                process.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                continue
            raise RuntimeError("PulseAudio exited at start-up: "
                               + (base / "pulseaudio.log").read_text(errors="replace")[-2000:])
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture
def pulse() -> Iterator[PulseServer]:
    """A private PulseAudio server whose one input is the virtual microphone `mic`."""
    reason = pulse_missing()
    if reason:
        pytest.skip(reason)
    server = start_pulse(with_mic=True)
    yield server
    server.stop()


@pytest.fixture
def pulse_without_mic() -> Iterator[PulseServer]:
    """A private PulseAudio server with an output but no input at all."""
    reason = pulse_missing()
    if reason:
        pytest.skip(reason)
    server = start_pulse(with_mic=False)
    yield server
    server.stop()


# --- the virtual microphone ----------------------------------------------------------------


class Feeder(threading.Thread):
    """Plays raw 16 kHz s16le mono into the FIFO at real-time pace, 50 ms at a time
    (written all at once, the server drops most of it). This is the sound source of the
    test, the person speaking: its pacing is not a synchronisation."""

    def __init__(self, fifo: Path, audio: bytes, *, loop: bool = False) -> None:
        super().__init__(name="mic-feeder", daemon=True)
        self.fifo, self.audio, self.loop = fifo, audio, loop
        self.fed_bytes = 0
        self._fed = threading.Condition()
        self.done = threading.Event()
        self._stop_requested = threading.Event()
        self.failure: BaseException | None = None
        self.unplugged = False

    @property
    def fed_ms(self) -> int:
        return self.fed_bytes * 1000 // (2 * RATE)

    def run(self) -> None:
        try:
            fd = os.open(self.fifo, os.O_WRONLY)
            try:
                start = time.monotonic()
                n = 0
                while not self._stop_requested.is_set():
                    offset = (n * CHUNK_BYTES) % len(self.audio) if self.loop else n * CHUNK_BYTES
                    if not self.loop and offset >= len(self.audio):
                        break
                    chunk = self.audio[offset:offset + CHUNK_BYTES]
                    try:
                        os.write(fd, chunk)
                    except BrokenPipeError:  # the server dropped the microphone
                        self.unplugged = True
                        break
                    with self._fed:
                        self.fed_bytes += len(chunk)
                        self._fed.notify_all()
                    n += 1
                    self._stop_requested.wait(max(0.0, start + n * CHUNK_SECONDS
                                                  - time.monotonic()))
            finally:
                os.close(fd)
        except BaseException as e:  # reported by stop()
            self.failure = e
        finally:
            with self._fed:
                self.done.set()
                self._fed.notify_all()

    def wait_fed(self, ms: int, timeout: float = 30.0) -> None:
        """Block until at least `ms` of audio has been played in total."""
        with self._fed:
            if not self._fed.wait_for(lambda: self.fed_ms >= ms or self.done.is_set(),
                                      timeout):
                raise AssertionError(f"the feeder played only {self.fed_ms} ms")
        if self.fed_ms < ms:
            raise AssertionError(f"the feeder stopped after {self.fed_ms} ms: {self.failure}")

    def stop(self) -> None:
        self._stop_requested.set()
        self.join(timeout=10)
        if self.failure is not None:
            raise self.failure


@pytest.fixture
def feeders() -> Iterator[Callable[..., Feeder]]:
    """Start feeders; all are stopped at teardown."""
    started: list[Feeder] = []

    def start(fifo: Path, audio: bytes, *, loop: bool = False) -> Feeder:
        feeder = Feeder(fifo, audio, loop=loop)
        feeder.start()
        started.append(feeder)
        return feeder

    yield start
    for feeder in started:
        feeder.stop()


@pytest.fixture(scope="session")
def speech(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, str]:
    """A sentence spoken by espeak-ng as 16 kHz s16le mono bytes, and its text."""
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:  # installed with pulseaudio in CI: missing is an error
            pytest.fail(f"{tool} is not installed (apt-get install {tool}); the recording "
                        "tests speak into the virtual microphone with it")
    text = "Tell me about how the two agencies share information."
    folder = tmp_path_factory.mktemp("speech")
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(folder / "say.wav"), text],
                   check=True, capture_output=True, timeout=60)
    subprocess.run(["sox", str(folder / "say.wav"), "-r", str(RATE), "-c", "1", "-b", "16",
                    "-e", "signed-integer", "-t", "raw", str(folder / "say.raw")],
                   check=True, capture_output=True, timeout=60)
    return (folder / "say.raw").read_bytes(), text


def silence(seconds: float) -> bytes:
    return bytes(2 * round(seconds * RATE))


# --- child processes -----------------------------------------------------------------------


@dataclass
class Child:
    """A child process whose stdout lines are read by a thread into a queue, so the test
    can wait for a line with a timeout (a blocking read, never a sleep)."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str | None] = field(default_factory=queue.Queue)
    stderr_path: Path | None = None
    seen: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.pump = threading.Thread(target=self._pump, name="child-stdout", daemon=True)
        self.pump.start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def next_line(self, timeout: float) -> str:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no output for {timeout:.0f} s; so far: "
                                 f"{self.seen[-10:]}\nstderr: {self.stderr()}") from None
        if line is None:
            self.lines.put(None)  # stay at the end
            raise AssertionError(f"the child exited ({self.process.wait(timeout=10)}); "
                                 f"so far: {self.seen[-10:]}\nstderr: {self.stderr()}")
        self.seen.append(line)
        return line

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            line = self.next_line(max(deadline - time.monotonic(), 0.01))
            if predicate(line):
                return line

    def event(self, name: str, timeout: float = 30.0,
              where: Callable[[dict[str, Any]], bool] = lambda e: True) -> dict[str, Any]:
        """The next JSON event called `name` (matching `where`)."""
        def match(line: str) -> bool:
            try:
                e = json.loads(line)
            except ValueError:
                return False
            return e.get("event") == name and where(e)
        return json.loads(self.wait_for(match, timeout))

    def events(self, name: str) -> list[dict[str, Any]]:
        found = []
        for line in self.seen:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("event") == name:
                found.append(e)
        return found

    def stderr(self) -> str:
        if self.stderr_path is None or not self.stderr_path.exists():
            return ""
        return self.stderr_path.read_text(errors="replace")[-3000:]

    def finish(self, timeout: float = 30.0) -> int:
        code = self.process.wait(timeout=timeout)
        while True:  # drain what is left, for later checks
            try:
                line = self.lines.get(timeout=10)
            except queue.Empty:
                break
            if line is None:
                self.lines.put(None)
                break
            self.seen.append(line)
        return code


@pytest.fixture
def children(tmp_path: Path) -> Iterator[Callable[..., Child]]:
    """Start Python scripts from tests/integration as children; killed at teardown."""
    started: list[Child] = []

    def start(script: str, *args: str, env: dict[str, str]) -> Child:
        err_path = tmp_path / f"{script}.{len(started)}.stderr"
        with err_path.open("w") as err:
            process = subprocess.Popen(
                [sys.executable, str(HERE / script), *args], env=env, cwd=tmp_path,
                text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
        child = Child(process, stderr_path=err_path)
        started.append(child)
        return child

    yield start
    for child in started:
        if child.process.poll() is None:
            child.process.kill()
        child.process.wait(timeout=30)
        child.pump.join(timeout=30)  # stdout is at its end once the child is gone
        for stream in (child.process.stdin, child.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
