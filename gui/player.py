"""Audio playback for transcript correction: play from a segment, pause with an
automatic rewind on resume, skip, and change speed with the pitch kept.

With no audio output device the player says so once and stays silent; the editor
keeps working.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QUrl, Signal, Slot
from PySide6.QtMultimedia import QAudioOutput, QMediaDevices, QMediaPlayer

RATES = (0.5, 0.6, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0)


class Player(QObject):
    position_changed = Signal(int)  # ms
    playing_changed = Signal(bool)
    rate_changed = Signal(float)
    notice = Signal(str)

    def __init__(self, rewind_ms: int = 1500, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rewind_ms = rewind_ms
        self.source: Path | None = None
        self._paused_once = False
        self._player: QMediaPlayer | None = None
        self.output: QAudioOutput | None = None

    @property
    def player(self) -> QMediaPlayer:
        """Made on first use: Qt Multimedia starts slowly and needs a sound server."""
        if self._player is None:
            self._player = QMediaPlayer(self)
            if QMediaDevices.audioOutputs():
                self.output = QAudioOutput(self)
                self._player.setAudioOutput(self.output)
            if self._player.pitchCompensationAvailability() != \
                    QMediaPlayer.PitchCompensationAvailability.Unavailable:
                self._player.setPitchCompensation(True)
            self._player.positionChanged.connect(
                lambda ms: self.position_changed.emit(int(ms)))
            self._player.playbackStateChanged.connect(self._state_changed)
            self._player.errorOccurred.connect(self._error)
        return self._player

    @property
    def available(self) -> bool:
        return self.output is not None

    def load(self, path: Path | None) -> None:
        """Load an interview's audio (or none); says why when it cannot be played."""
        if self._player is None and path is None:
            self.source = None
            return
        self.stop()
        self.source = path
        self._paused_once = False
        self.player.setSource(QUrl.fromLocalFile(str(path)) if path else QUrl())
        if path is not None and not self.available:
            self.notice.emit("No audio output device was found, so the recording cannot be "
                             "played here. Editing works as usual.")

    @property
    def playing(self) -> bool:
        return self._player is not None and \
            self._player.playbackState() == QMediaPlayer.PlaybackState.PlayingState

    def position(self) -> int:
        return int(self._player.position()) if self._player is not None else 0

    def play_from(self, ms: int) -> None:
        if self.source is None:
            return
        self.player.setPosition(max(0, ms))
        self._paused_once = False
        self.player.play()

    def toggle(self) -> None:
        """Play/pause; resuming goes back a little so the last words are heard again."""
        if self.source is None:
            return
        if self.playing:
            self.player.pause()
            self._paused_once = True
            return
        if self._paused_once and self.rewind_ms:
            self.player.setPosition(max(0, self.position() - self.rewind_ms))
        self.player.play()

    def skip(self, delta_ms: int) -> None:
        if self.source is not None:
            self.player.setPosition(max(0, self.position() + delta_ms))

    def stop(self) -> None:
        if self._player is not None:
            self._player.stop()

    @property
    def rate(self) -> float:
        return float(self._player.playbackRate()) if self._player is not None else 1.0

    def set_rate(self, rate: float) -> None:
        rate = min(2.0, max(0.5, rate))
        self.player.setPlaybackRate(rate)
        self.rate_changed.emit(rate)

    def slower(self) -> None:
        self.set_rate(max([r for r in RATES if r < self.rate - 1e-6], default=RATES[0]))

    def faster(self) -> None:
        self.set_rate(min([r for r in RATES if r > self.rate + 1e-6], default=RATES[-1]))

    @Slot(QMediaPlayer.PlaybackState)
    def _state_changed(self, _state: QMediaPlayer.PlaybackState) -> None:
        self.playing_changed.emit(self.playing)

    @Slot(QMediaPlayer.Error, str)
    def _error(self, _error: QMediaPlayer.Error, message: str) -> None:
        self.notice.emit(f"The recording cannot be played: {message or 'unknown error'}.")
