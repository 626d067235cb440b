"""Typed application settings in one place (an INI file, never the registry).

VERBATIM_CONFIG_DIR moves the file, so tests and portable installs stay apart
from a researcher's own settings.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

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
