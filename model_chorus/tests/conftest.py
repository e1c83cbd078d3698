"""Shared fixtures: every test runs in an isolated environment.

Home, config and data directories point into a temporary folder, colours are
off and the terminal width is fixed, so no test reads or writes the
developer's own model-chorus files and output is stable. The fake AI tools in
``tests/fakes/bin`` stand in for the real ones; ``fake_tools`` puts them first
on PATH.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from model_chorus.store.database import ConversationDatabase
from model_chorus.tests.fakes import FakeTools

FAKES_BIN = Path(__file__).parent / "fakes" / "bin"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("TERM", "dumb")
    for name in list(os.environ):
        if name.startswith(("MODEL_CHORUS_", "FAKE_")):
            monkeypatch.delenv(name, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield home


@pytest.fixture
def no_tools_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A PATH with no AI tools on it (only the basics the fakes need)."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", f"{empty}{os.pathsep}/usr/bin{os.pathsep}/bin")
    return empty


@pytest.fixture
def fake_tools(isolated_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeTools:
    """The fake claude/gemini/codex/cursor-agent first on PATH, logging to a temp folder.

    ``fake_tools.set("claude", mode="rate_limit")``, ``fake_tools.script("gemini",
    [{"reply": "A"}, {"mode": "auth"}])``, ``fake_tools.calls("codex")``; the
    protocol is documented at the top of ``tests/fakes/fake_tool.py``.
    """
    return FakeTools.install(monkeypatch, tmp_path / "fakes")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ConversationDatabase]:
    """A fresh conversation database in the test's temporary folder."""
    db = ConversationDatabase(tmp_path / "chorus.db")
    yield db
    db.close()
