"""Per-thread workflow state, and a workflow's turn saved in one transaction.

Several model-chorus processes may continue the same thread at once, each
reading the thread's state when it starts and saving its turn minutes later.
``save_turn`` therefore takes the state as a *merge*: a function from the state
as stored at the moment of saving to the state to store. It runs inside the
``BEGIN IMMEDIATE`` write transaction, so no other writer can slip in between
the read and the write, and a turn another run saved meanwhile is merged with
rather than overwritten. Each workflow's module says what merging means for its
state.

State that cannot be merged can still be saved as a value checked against the
version read at the start (``expected_version``): when another run saved in
between, the save is refused with ``StateConflictError`` and nothing is
written. Either way a crash leaves the whole turn (thread, messages, state) or
none of it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from model_chorus.errors import StateConflictError
from model_chorus.models import Message, Thread, utcnow
from model_chorus.store import rows
from model_chorus.store.connection import StoreConnection

#: The state to store, made from the state as stored at this moment (None: none yet).
StateMerge = Callable[[dict[str, Any] | None], dict[str, Any]]


@dataclass(frozen=True)
class SavedTurn:
    #: The messages as stored: ``id``, ``seq`` and ``thread_id`` set.
    messages: list[Message]
    #: Version of the state after the save; 0 when the turn wrote no state.
    state_version: int = 0
    #: The state as this save stored it (after merging); None when the turn wrote no state.
    state: dict[str, Any] | None = None


class StateStore(StoreConnection):
    def get_state(self, thread_id: str, key: str) -> dict[str, Any] | None:
        return self.get_state_and_version(thread_id, key)[0]

    def get_state_and_version(self, thread_id: str, key: str) -> tuple[dict[str, Any] | None, int]:
        """The state under ``key`` and its version, read together; ``(None, 0)`` when none.

        Pass the version to ``save_turn`` as ``expected_version``.
        """
        with self._read("reading workflow state") as conn:
            return rows.select_state(conn, thread_id, key)

    def get_all_state(self, thread_id: str) -> dict[str, dict[str, Any]]:
        """Every workflow-state entry of a thread, by key."""
        with self._read("reading workflow state") as conn:
            found = conn.execute(
                "SELECT key, value FROM thread_state WHERE thread_id = ? ORDER BY key",
                (thread_id,),
            ).fetchall()
        return {key: json.loads(value) for key, value in found}

    def save_turn(
        self,
        thread: Thread,
        messages: Sequence[Message],
        *,
        create: bool = False,
        state_key: str | None = None,
        merge: StateMerge | None = None,
        state: dict[str, Any] | None = None,
        expected_version: int | None = None,
    ) -> SavedTurn:
        """Store one workflow turn atomically: the thread (when ``create``), messages, state.

        ``create`` inserts ``thread`` as given (a run that started it);
        otherwise only its id is used and the thread must exist.

        The state under ``state_key`` comes from ``merge`` (called with the state
        as stored now, inside the transaction, before the messages are inserted,
        so it may also bring them in line with the merged state; whatever it
        raises writes nothing) or is ``state`` as given. With
        ``expected_version`` the stored state must still have that version
        (0: none yet), else ``StateConflictError`` and nothing is written.
        """
        if (state_key is None) != (state is None and merge is None):
            raise ValueError("save_turn needs state_key together with state or merge")
        if state is not None and merge is not None:
            raise ValueError("save_turn takes state or merge, not both")
        if expected_version is not None and state_key is None:
            raise ValueError("expected_version needs state_key")
        with self._write("saving a turn") as conn:
            if not create and not rows.exists(conn, thread.id):
                raise rows.not_found(thread.id)
            new_state = state
            if state_key is not None:
                current, version = rows.select_state(conn, thread.id, state_key)
                if expected_version is not None and version != expected_version:
                    raise StateConflictError(thread.id, state_key)
                if merge is not None:
                    new_state = merge(current)
            if create:
                rows.insert_thread(conn, thread)
            stored = rows.insert_messages(conn, thread.id, messages, touch=True)
            version = 0
            if state_key is not None and new_state is not None:
                version = rows.put_state(conn, thread.id, state_key, new_state, utcnow())
        return SavedTurn(stored, version, new_state)
