"""Atomic file writes for exports: a file appears complete under its name, or not at all.

Everything is written to a hidden temporary file in the target's own folder (so the
final rename never crosses a file system), flushed to disk, then renamed over the target
with os.replace. A failure, or an export refused by the leak check, leaves no file and
never clobbers an earlier export of the same name.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path


def write_atomic(path: Path, data: bytes | str) -> Path:
    """Write `data` (str as UTF-8, newlines untouched) to `path` atomically; returns path."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_target(path) as temporary, temporary.open("wb") as f:
        f.write(payload)
    return Path(path)


@contextmanager
def atomic_target(path: Path) -> Iterator[Path]:
    """A temporary path for a library to save to (python-docx, matplotlib); on a clean
    exit it is moved onto `path`, on an exception it is removed.

    The temporary name keeps the target's suffix, so a library that picks the format
    from the extension still does the right thing.
    """
    path = Path(path)
    temporary = _reserve(path)
    try:
        yield temporary
        _sync(temporary)
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):
            temporary.unlink()
        raise
    _sync_folder(path.parent)


def _reserve(path: Path) -> Path:
    """Create an empty, unique, hidden file beside `path` (mode 0666 less the umask,
    like any new file, unlike mkstemp's 0600)."""
    for _ in range(100):
        temporary = path.with_name(f".{path.stem}-{secrets.token_hex(4)}.partial{path.suffix}")
        try:
            os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return temporary
    raise FileExistsError(f"Could not find a free temporary name beside {path}.")


def _sync(path: Path) -> None:
    """Flush a finished file to disk, so a crash after the rename cannot leave it empty."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); not possible, nor needed, on Windows."""
    if os.name != "posix":
        return
    with suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
