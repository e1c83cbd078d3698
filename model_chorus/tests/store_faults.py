"""A database that stops accepting turns: for "the answer survives a failed save" tests."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from model_chorus.store import rows


def disk_full_after(monkeypatch: pytest.MonkeyPatch, saves: int = 0) -> None:
    """Let ``saves`` more inserts of messages through, then fail every one as SQLite does
    on a full disk (inside the write transaction, so nothing of that turn is written)."""
    insert = rows.insert_messages
    left = saves

    def insert_or_fail(*args: Any, **kwargs: Any) -> Any:
        nonlocal left
        if left <= 0:
            raise sqlite3.OperationalError("database or disk is full")
        left -= 1
        return insert(*args, **kwargs)

    monkeypatch.setattr(rows, "insert_messages", insert_or_fail)
