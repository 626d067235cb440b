"""Typed application settings in one place (an INI file, never the registry).

VERBATIM_CONFIG_DIR moves the file, so tests and portable installs stay apart
from a researcher's own settings.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

from transcription.options import Quality, TranscriptionOptions, default_threads

RECENT_MAX = 10


def config_dir() -> Path:
    override = os.environ.get("VERBATIM_CONFIG_DIR")
    if override:
        return Path(override)
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppConfigLocation)
    return Path(location or Path.home() / ".config" / "verbatim")


class Settings:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_dir() / "verbatim.ini"
        self._q = QSettings(str(self.path), QSettings.Format.IniFormat)

    def recent_studies(self) -> list[Path]:
        """Studies opened before, newest first, that still exist."""
        raw = self._q.value("studies/recent", [])
        if isinstance(raw, str):
            raw = [raw]
        paths = [Path(p) for p in raw or []]
        return [p for p in paths if (p / "study.sqlite").exists()]

    def add_recent_study(self, path: Path) -> None:
        path = path.resolve()
        paths = [path, *(p for p in self.recent_studies() if p != path)][:RECENT_MAX]
        self._q.setValue("studies/recent", [str(p) for p in paths])
        self._q.sync()

    def forget_recent_study(self, path: Path) -> None:
        paths = [p for p in self.recent_studies() if p != path.resolve()]
        self._q.setValue("studies/recent", [str(p) for p in paths])
        self._q.sync()

    def window_geometry(self) -> QByteArray | None:
        value = self._q.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    def set_window_geometry(self, geometry: QByteArray) -> None:
        self._q.setValue("window/geometry", geometry)
        self._q.sync()

    # --- transcription -------------------------------------------------------------------

    def transcription_options(self) -> TranscriptionOptions:
        """The researcher's defaults for new transcription jobs."""
        threads = int(self._q.value("transcription/threads", default_threads()))
        try:
            quality = Quality(str(self._q.value("transcription/quality", "accurate")))
        except ValueError:
            quality = Quality.ACCURATE
        return TranscriptionOptions(
            model=str(self._q.value("transcription/model", "tiny.en")),
            quality=quality,
            threads=max(1, threads),
            split_stereo=self._q.value("transcription/split_stereo", "false") == "true",
        )

    def set_transcription_options(self, options: TranscriptionOptions) -> None:
        self._q.setValue("transcription/model", options.model)
        self._q.setValue("transcription/quality", options.quality.value)
        self._q.setValue("transcription/threads", options.threads)
        self._q.setValue("transcription/split_stereo", "true" if options.split_stereo else "false")
        self._q.sync()

    def model_folders(self) -> list[Path]:
        raw = self._q.value("transcription/folders", [])
        return [Path(p) for p in ([raw] if isinstance(raw, str) else raw or [])]

    def set_model_folders(self, folders: list[Path]) -> None:
        self._q.setValue("transcription/folders", [str(p) for p in folders])
        self._q.sync()

    def measured_speed(self, model_key: str) -> float | None:
        """Seconds of speech transcribed per second on this computer, last measured."""
        value = self._q.value(f"speed/{model_key.replace('/', '|')}")
        return float(value) if value not in (None, "") else None

    def set_measured_speed(self, model_key: str, speed: float) -> None:
        self._q.setValue(f"speed/{model_key.replace('/', '|')}", round(speed, 2))
        self._q.sync()

    # --- the transcript editor -------------------------------------------------------------

    def rewind_ms(self) -> int:
        """How far playback goes back when resumed after a pause (1 to 2 s is usual)."""
        return int(self._q.value("editor/rewind_ms", 1500))

    def set_rewind_ms(self, ms: int) -> None:
        self._q.setValue("editor/rewind_ms", max(0, min(5000, ms)))
        self._q.sync()

    def hotkey(self, name: str, default: str) -> str:
        return str(self._q.value(f"hotkeys/{name}", default))

    def set_hotkey(self, name: str, keys: str) -> None:
        self._q.setValue(f"hotkeys/{name}", keys)
        self._q.sync()
