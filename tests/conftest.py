"""Shared test set-up: offscreen Qt, isolated settings, and study factories."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

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
