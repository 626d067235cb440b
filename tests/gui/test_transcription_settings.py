"""The transcription settings dialog: models listed honestly, the choice saved, a bad
model folder refused with a clear message."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from gui.settings import Settings
from gui.transcription_settings import TranscriptionSettingsDialog
from transcription.options import Quality


def rows(dialog: TranscriptionSettingsDialog) -> list[list[str]]:
    t = dialog.table
    return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]


def test_models_are_listed_with_language_size_speed_and_quality(qtbot: QtBot,
                                                                tmp_path: Path) -> None:
    settings = Settings(tmp_path / "s.ini")
    settings.set_measured_speed("tiny.en", 12.34)
    dialog = TranscriptionSettingsDialog(settings)
    qtbot.addWidget(dialog)
    table = rows(dialog)
    tiny = next(r for r in table if "tiny.en" in r[0])
    assert tiny[1] == "English" and tiny[2].endswith("MB")
    assert tiny[3] == "12.3× real time"
    assert "draft" in tiny[4].lower()
    base = next(r for r in table if "base" in r[0].lower())
    assert base[1] == "Multilingual" and "not measured" in base[3]
    assert dialog.chosen_model().key == "tiny.en"


def test_choice_is_saved(qtbot: QtBot, tmp_path: Path) -> None:
    settings = Settings(tmp_path / "s.ini")
    dialog = TranscriptionSettingsDialog(settings)
    qtbot.addWidget(dialog)
    base_row = next(i for i, m in enumerate(dialog.models) if m.key == "base")
    dialog.table.selectRow(base_row)
    dialog.quality.setCurrentIndex(dialog.quality.findData(Quality.FAST))
    dialog.threads.setValue(1)
    dialog.split.setChecked(True)
    dialog.accept()
    saved = Settings(tmp_path / "s.ini").transcription_options()
    assert (saved.model, saved.quality, saved.threads, saved.split_stereo) == (
        "base", Quality.FAST, 1, True)


def test_a_folder_that_is_not_a_model_is_refused(qtbot: QtBot, tmp_path: Path) -> None:
    settings = Settings(tmp_path / "s.ini")
    dialog = TranscriptionSettingsDialog(settings)
    qtbot.addWidget(dialog)
    (tmp_path / "empty").mkdir()
    assert not dialog.add_folder(tmp_path / "empty")
    assert not dialog.error.isHidden() and "model.bin" in dialog.error.text()
    assert settings.model_folders() == []


def test_glossary_terms_are_added_refused_when_duplicate_and_removed(
        qtbot: QtBot, study) -> None:  # type: ignore[no-untyped-def]
    from gui.glossary_dialog import GlossaryDialog

    dialog = GlossaryDialog(study.store)
    qtbot.addWidget(dialog)
    for term in ("Harrowfield", "care coordinator"):
        qtbot.keyClicks(dialog.entry, term)
        dialog.add()
    assert study.store.glossary() == ["care coordinator", "Harrowfield"]
    qtbot.keyClicks(dialog.entry, "harrowfield")
    dialog.add()
    assert not dialog.error.isHidden() and "already" in dialog.error.text()
    dialog.terms.item(1).setSelected(True)
    dialog.remove_selected()
    assert study.store.glossary() == ["care coordinator"]
