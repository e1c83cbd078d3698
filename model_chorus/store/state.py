"""Per-thread workflow state, and a workflow's turn saved in one transaction.

Each state entry carries a version, bumped by every write. A workflow reads the
state and its version when a run starts (``get_state_and_version``) and saves
the turn with that version as ``expected_version`` (``save_turn``): if another
process saved a turn of the same thread meanwhile, the versions differ and the
save is refused with ``StateConflictError`` instead of silently dropping that
run's update. The check and the writes share one ``BEGIN IMMEDIATE``
transaction, so no other writer can slip in between them, and a crash leaves
either the whole turn (thread, messages, state) or none of it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from model_chorus.errors import StateConflictError
from model_chorus.models import Message, Thread, utcnow
from model_chorus.store import rows
from model_chorus.store.connection import StoreConnection


@dataclass(frozen=True)
class SavedTurn:
    #: The messages as stored: ``id``, ``seq`` and ``thread_id`` set.
    messages: list[Message]
    #: Version of the state after the save; 0 when the turn wrote no state.
    state_version: int = 0


class StateStore(StoreConnection):
    def get_state(self, thread_id: str, key: str) -> dict[str, Any] | None:
        return self.get_state_and_version(thread_id, key)[0]

    def get_state_and_version(self, thread_id: str, key: str) -> tuple[dict[str, Any] | None, int]:
        """The state under ``key`` and its version, read together; ``(None, 0)`` when none.

        Pass the version to ``save_turn`` as ``expected_version``.
        """
        with self._read("reading workflow state") as conn:
            row = conn.execute(
                "SELECT value, version FROM thread_state WHERE thread_id = ? AND key = ?",
                (thread_id, key),
            ).fetchone()
        if row is None:
            return None, 0
        value: dict[str, Any] = json.loads(row[0])
        return value, int(row[1])

    def get_state_version(self, thread_id: str, key: str) -> int:
        """Version of the stored state under ``key``; 0 when there is none."""
        with self._read("reading workflow state") as conn:
            return rows.state_version(conn, thread_id, key)

    def get_all_state(self, thread_id: str) -> dict[str, dict[str, Any]]:
        """Every workflow-state entry of a thread, by key."""
        with self._read("reading workflow state") as conn:
            found = conn.execute(
                "SELECT key, value FROM thread_state WHERE thread_id = ? ORDER BY key",
                (thread_id,),
            ).fetchall()
        return {key: json.loads(value) for key, value in found}

    def set_state(self, thread_id: str, key: str, value: dict[str, Any]) -> int:
        """Replace the state under ``key`` unchecked; returns its new version (1 at first).

        Workflows save through ``save_turn``, which checks the version first.
        """
        with self._write("saving workflow state") as conn:
            if not rows.exists(conn, thread_id):
                raise rows.not_found(thread_id)
            return rows.put_state(conn, thread_id, key, value, utcnow())

    def save_turn(
        self,
        thread: Thread,
        messages: Sequence[Message],
        *,
        create: bool = False,
        state_key: str | None = None,
        state: dict[str, Any] | None = None,
        expected_version: int | None = None,
    ) -> SavedTurn:
        """Store one workflow turn atomically: the thread (when ``create``), messages, state.

        ``create`` inserts ``thread`` as given (a run that started it);
        otherwise only its id is used and the thread must exist. With
        ``expected_version`` the state under ``state_key`` must still have that
        version (0: none yet), else ``StateConflictError`` and nothing is written.
        """
        if (state_key is None) != (state is None):
            raise ValueError("save_turn needs state_key and state together")
        if expected_version is not None and state_key is None:
            raise ValueError("expected_version needs state_key")
        with self._write("saving a turn") as conn:
            if not create and not rows.exists(conn, thread.id):
                raise rows.not_found(thread.id)
            if (
                state_key is not None
                and expected_version is not None
                and rows.state_version(conn, thread.id, state_key) != expected_version
            ):
                raise StateConflictError(thread.id, state_key)
            if create:
                rows.insert_thread(conn, thread)
            stored = rows.insert_messages(conn, thread.id, messages, touch=True)
            version = 0
            if state_key is not None and state is not None:
                version = rows.put_state(conn, thread.id, state_key, state, utcnow())
        return SavedTurn(stored, version)
