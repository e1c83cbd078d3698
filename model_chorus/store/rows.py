"""Rows in and out: how values are encoded, and the statements every part of the store shares.

The functions taking a connection run inside a transaction the caller opened
(``StoreConnection._write`` or ``_read``); they never open one themselves, so
several of them compose into one atomic write.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from model_chorus.errors import ThreadNotFoundError
from model_chorus.models import Message, Role, Thread, ThreadStatus

#: Shortest id prefix accepted (like git's abbreviated hashes).
MIN_PREFIX_LEN = 4

MESSAGE_COLUMNS = (
    "id, thread_id, seq, role, content, provider, model, files, "
    "input_tokens, output_tokens, created_at, metadata"
)
THREAD_COLUMNS = "id, workflow, title, status, parent_id, created_at, updated_at, metadata"


def ts(value: datetime) -> str:
    """Fixed-width UTC text, so that text order is time order. Naive values count as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def not_found(thread_id: str) -> ThreadNotFoundError:
    short = (
        f" (a prefix needs at least {MIN_PREFIX_LEN} characters)"
        if 0 < len(thread_id) < MIN_PREFIX_LEN
        else ""
    )
    return ThreadNotFoundError(
        f"No thread with id {thread_id!r}{short}.",
        hint="Run `model-chorus threads list` to see the stored threads.",
    )


def exists(conn: sqlite3.Connection, thread_id: str) -> bool:
    row = conn.execute("SELECT 1 FROM threads WHERE id = ?", (thread_id,)).fetchone()
    return row is not None


def count_messages(conn: sqlite3.Connection, thread_id: str) -> int:
    row = conn.execute("SELECT count(*) FROM messages WHERE thread_id = ?", (thread_id,))
    return int(row.fetchone()[0])


def insert_thread(conn: sqlite3.Connection, thread: Thread) -> None:
    conn.execute(
        f"INSERT INTO threads ({THREAD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            thread.id,
            thread.workflow,
            thread.title,
            str(thread.status),
            thread.parent_id,
            ts(thread.created_at),
            ts(thread.updated_at),
            to_json(thread.metadata),
        ),
    )


def insert_messages(
    conn: sqlite3.Connection, thread_id: str, messages: Sequence[Message], *, touch: bool
) -> list[Message]:
    """Append after the thread's last ``seq``; ``touch`` moves its ``updated_at`` forward."""
    # seq is computed under the write lock (BEGIN IMMEDIATE), so concurrent
    # writers to one thread queue up instead of colliding.
    row = conn.execute(
        "SELECT coalesce(max(seq), 0) FROM messages WHERE thread_id = ?", (thread_id,)
    ).fetchone()
    seq = int(row[0])
    stored: list[Message] = []
    for message in messages:
        seq += 1
        cursor = conn.execute(
            f"INSERT INTO messages ({MESSAGE_COLUMNS}) "
            "VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                thread_id,
                seq,
                str(Role(message.role)),
                message.content,
                message.provider,
                message.model,
                to_json(list(message.files)),
                message.input_tokens,
                message.output_tokens,
                ts(message.created_at),
                to_json(message.metadata),
            ),
        )
        stored.append(replace(message, id=cursor.lastrowid, thread_id=thread_id, seq=seq))
    if touch and stored:
        newest = max(ts(m.created_at) for m in stored)
        conn.execute(
            "UPDATE threads SET updated_at = max(updated_at, ?) WHERE id = ?",
            (newest, thread_id),
        )
    return stored


def select_messages(conn: sqlite3.Connection, thread_id: str) -> list[Message]:
    rows = conn.execute(
        f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE thread_id = ? ORDER BY seq",
        (thread_id,),
    ).fetchall()
    return [
        Message(
            id=row[0],
            thread_id=row[1],
            seq=row[2],
            role=Role(row[3]),
            content=row[4],
            provider=row[5],
            model=row[6],
            files=json.loads(row[7]),
            input_tokens=row[8],
            output_tokens=row[9],
            created_at=dt(row[10]),
            metadata=json.loads(row[11]),
        )
        for row in rows
    ]


def thread_from_row(row: Sequence[Any]) -> Thread:
    return Thread(
        id=row[0],
        workflow=row[1],
        title=row[2],
        status=ThreadStatus(row[3]),
        parent_id=row[4],
        created_at=dt(row[5]),
        updated_at=dt(row[6]),
        metadata=json.loads(row[7]),
    )


def select_state(
    conn: sqlite3.Connection, thread_id: str, key: str
) -> tuple[dict[str, Any] | None, int]:
    """The state under ``key`` and its version; ``(None, 0)`` when there is none."""
    row = conn.execute(
        "SELECT value, version FROM thread_state WHERE thread_id = ? AND key = ?",
        (thread_id, key),
    ).fetchone()
    if row is None:
        return None, 0
    value: dict[str, Any] = json.loads(row[0])
    return value, int(row[1])


def state_version(conn: sqlite3.Connection, thread_id: str, key: str) -> int:
    """Version of the state under ``key``; 0 when there is none."""
    row = conn.execute(
        "SELECT version FROM thread_state WHERE thread_id = ? AND key = ?", (thread_id, key)
    ).fetchone()
    return int(row[0]) if row else 0


def put_state(
    conn: sqlite3.Connection,
    thread_id: str,
    key: str,
    value: dict[str, Any],
    when: datetime,
) -> int:
    """Replace the state under ``key`` and bump its version; returns the new version."""
    version = state_version(conn, thread_id, key) + 1
    conn.execute(
        "INSERT OR REPLACE INTO thread_state (thread_id, key, value, version, updated_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (thread_id, key, to_json(value), version, ts(when)),
    )
    return version
