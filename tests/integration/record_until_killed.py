"""Record from the default input until killed, for the crash-recovery test.

Usage: python record_until_killed.py STUDY_FOLDER [TITLE]

A QCoreApplication with a Recorder writing into the study's recordings/ folder; prints
`path <file>` once recording, then `synced <ms>` each time the WAV is synced to disk, and
`error <message>` for any problem. It never stops by itself: the test kills it with
SIGKILL, as a crash or a power cut would.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication

from gui.recorder import Recorder
from study.folder import StudyFolder
from transcription.wav_writer import new_recording_path


def main() -> int:
    app = QCoreApplication(sys.argv[:1])
    folder = StudyFolder(Path(sys.argv[1]))
    title = sys.argv[2] if len(sys.argv) > 2 else ""
    recorder = Recorder()
    recorder.synced.connect(lambda ms: print(f"synced {ms}", flush=True))
    recorder.error.connect(lambda message: print(f"error {message}", flush=True))
    recorder.stopped.connect(lambda _path: app.quit())
    device = recorder.default_input()
    if device is None:
        print(f"error no input device: {[d.description() for d in recorder.inputs()]}",
              flush=True)
        return 1
    recorder.start(device, new_recording_path(folder), title=title)
    if not recorder.recording:
        return 1
    print(f"path {recorder.path}", flush=True)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
