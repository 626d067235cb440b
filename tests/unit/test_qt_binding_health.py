"""Guards against a Qt binding that corrupts Python's reference counts.

PySide6 6.12.0 on Python 3.11 dropped a reference to None or True on each call of a
void Qt method or each Signal.emit, so a long recording or transcription aborted the
app ("Fatal Python error: bool_dealloc"). The pin in pyproject.toml avoids it; this
test fails if a future version brings it back.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class Emitter(QObject):
    ticked = Signal(int)


def test_void_calls_and_signals_keep_reference_counts() -> None:
    received: list[int] = []
    emitter = Emitter()
    emitter.ticked.connect(received.append)
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for n in range(2000):
        emitter.setObjectName("tick")
        emitter.ticked.emit(n)
    assert len(received) == 2000
    # Immortal objects (Python 3.12+) report a huge constant count; a leak shows as a drop.
    assert sys.getrefcount(None) >= none_before - 50
    assert sys.getrefcount(True) >= true_before - 50
