"""Threads and their messages: create, find (by id, prefix or ``last``), list, delete."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from model_chorus.errors import InputError, ThreadNotFoundError
from model_chorus.models import Message, Thread, ThreadStatus, new_id, utcnow
from model_chorus.store import rows
from model_chorus.store.connection import StoreConnection
from model_chorus.store.rows import MIN_PREFIX_LEN, THREAD_COLUMNS

#: Stands for the most recently updated thread wherever a thread id is accepted.
LAST_THREAD = "last"


class ThreadStore(StoreConnection):
    def create_thread(
        self,
        workflow: str,
        *,
        title: str = "",
        parent_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        thread_id: str | None = None,
        status: ThreadStatus = ThreadStatus.ACTIVE,
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
    ) -> Thread:
        created = created_at or utcnow()
        thread = Thread(
            id=thread_id or new_id(),
            workflow=workflow,
            title=title,
            status=ThreadStatus(status),
            parent_id=parent_id,
            created_at=created,
            updated_at=updated_at or created,
            metadata=dict(metadata or {}),
            message_count=0,
        )
        with self._write("creating a thread") as conn:
            if parent_id is not None and not rows.exists(conn, parent_id):
                raise ThreadNotFoundError(
                    f"Parent thread {parent_id} does not exist.",
                    hint="Run `model-chorus threads list` to see the stored threads.",
                )
            if thread_id is not None and rows.exists(conn, thread_id):
                raise InputError(f"A thread with id {thread_id} already exists.")
            rows.insert_thread(conn, thread)
        return thread

    def import_thread(
        self, thread: Thread, *, state: dict[str, dict[str, Any]] | None = None
    ) -> bool:
        """Store a complete thread as given (id, timestamps, messages, state) in one transaction.

        For imports: nothing is renumbered or re-timed except message ``seq``
        (1, 2, ... in list order) and the parent link, which is left to
        ``set_parent`` because the parent may be imported later. Returns False,
        changing nothing, when a thread with that id already exists.
        """
        with self._write("importing a thread") as conn:
            if rows.exists(conn, thread.id):
                return False
            rows.insert_thread(conn, replace(thread, parent_id=None))
            rows.insert_messages(conn, thread.id, thread.messages, touch=False)
            for key, value in (state or {}).items():
                rows.put_state(conn, thread.id, key, value, thread.updated_at)
        return True

    def set_parent(self, thread_id: str, parent_id: str | None) -> None:
        """Link a thread to its parent without touching ``updated_at`` (used by imports)."""
        with self._write("linking a thread to its parent") as conn:
            if parent_id is not None and not rows.exists(conn, parent_id):
                raise ThreadNotFoundError(f"Parent thread {parent_id} does not exist.")
            cursor = conn.execute(
                "UPDATE threads SET parent_id = ? WHERE id = ?", (parent_id, thread_id)
            )
            if cursor.rowcount == 0:
                raise rows.not_found(thread_id)

    def existing_thread_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` are stored (one query per 500 ids)."""
        found: set[str] = set()
        with self._read("looking up threads") as conn:
            for start in range(0, len(ids), 500):
                chunk = list(ids[start : start + 500])
                marks = ",".join("?" * len(chunk))
                cursor = conn.execute(f"SELECT id FROM threads WHERE id IN ({marks})", chunk)
                found.update(row[0] for row in cursor)
        return found

    def resolve_thread_id(self, id_or_prefix: str, *, workflow: str | None = None) -> str:
        """The full id of a thread given its id, a unique prefix of at least 4 characters,
        or ``last``: the most recently updated thread (of ``workflow``, when given)."""
        wanted = id_or_prefix.strip()
        if wanted == LAST_THREAD:
            return self._last_thread_id(workflow)
        with self._read("looking up a thread") as conn:
            if wanted and rows.exists(conn, wanted):
                return wanted
            matches: list[str] = []
            if len(wanted) >= MIN_PREFIX_LEN:
                # Ids are lower-case uuids; some tools print them upper-case.
                prefix = wanted.lower()
                # A range scan on the primary key; LIKE could not use the index.
                upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
                matches = [
                    row[0]
                    for row in conn.execute(
                        "SELECT id FROM threads WHERE id >= ? AND id < ? ORDER BY id LIMIT 6",
                        (prefix, upper),
                    )
                ]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise rows.not_found(wanted)
        shown = ", ".join(matches[:5]) + (", …" if len(matches) > 5 else "")
        raise InputError(
            f"Thread id prefix {wanted!r} is ambiguous; it matches {shown}.",
            hint="Give more characters of the id.",
        )

    def _last_thread_id(self, workflow: str | None) -> str:
        newest = self.list_threads(workflow=workflow, limit=1)
        if not newest:
            what = f"{workflow} thread" if workflow else "thread"
            raise ThreadNotFoundError(
                f"There is no {what} yet, so '{LAST_THREAD}' names nothing.",
                hint=f'Start one with: model-chorus {workflow or "chat"} "..."',
            )
        return newest[0].id

    def get_thread(
        self, id_or_prefix: str, *, with_messages: bool = True, workflow: str | None = None
    ) -> Thread:
        """``workflow`` only narrows what ``last`` means; an explicit id may be of any workflow."""
        thread_id = self.resolve_thread_id(id_or_prefix, workflow=workflow)
        with self._read("reading a thread") as conn:
            row = conn.execute(
                f"SELECT {THREAD_COLUMNS} FROM threads WHERE id = ?", (thread_id,)
            ).fetchone()
            if row is None:  # deleted between resolving and reading
                raise rows.not_found(thread_id)
            thread = rows.thread_from_row(row)
            if with_messages:
                thread.messages = rows.select_messages(conn, thread_id)
                thread.message_count = len(thread.messages)
            else:
                thread.message_count = rows.count_messages(conn, thread_id)
        return thread

    def list_threads(
        self, *, workflow: str | None = None, limit: int = 20, offset: int = 0
    ) -> list[Thread]:
        """Most recently updated first; messages are not loaded, ``message_count`` is set."""
        where = "WHERE workflow = ?" if workflow is not None else ""
        params: list[Any] = [workflow] if workflow is not None else []
        sql = (
            f"SELECT {THREAD_COLUMNS}, "
            "(SELECT count(*) FROM messages m WHERE m.thread_id = t.id) "
            f"FROM threads t {where} ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?"
        )
        with self._read("listing threads") as conn:
            found = conn.execute(sql, (*params, max(limit, 0), max(offset, 0))).fetchall()
        threads = []
        for row in found:
            thread = rows.thread_from_row(row[:8])
            thread.message_count = int(row[8])
            threads.append(thread)
        return threads

    def delete_thread(self, thread_id: str) -> None:
        """Delete a thread with its messages and state; its children stay, unparented."""
        with self._write("deleting a thread") as conn:
            cursor = conn.execute("DELETE FROM threads WHERE id = ?", (thread_id,))
            if cursor.rowcount == 0:
                raise rows.not_found(thread_id)

    def prune(self, older_than: timedelta, *, dry_run: bool = False) -> list[str]:
        """Delete threads not updated for ``older_than``; returns their ids (oldest first).

        The only way threads ever leave the store: nothing expires on its own.
        """
        if older_than < timedelta(0):
            raise InputError("The age for pruning must not be negative.")
        cutoff = rows.ts(utcnow() - older_than)
        select = "SELECT id FROM threads WHERE updated_at < ? ORDER BY updated_at, id"
        if dry_run:
            with self._read("finding old threads") as conn:
                return [row[0] for row in conn.execute(select, (cutoff,))]
        with self._write("pruning old threads") as conn:
            ids = [row[0] for row in conn.execute(select, (cutoff,))]
            conn.execute("DELETE FROM threads WHERE updated_at < ?", (cutoff,))
        return ids

    # -- messages --------------------------------------------------------------------

    def add_message(self, thread_id: str, message: Message) -> Message:
        """Append a message; returns a copy with ``id``, ``seq`` and ``thread_id`` set."""
        return self.add_messages(thread_id, [message])[0]

    def add_messages(self, thread_id: str, messages: Sequence[Message]) -> list[Message]:
        """Append messages in one transaction, numbered after whatever is there at commit time."""
        with self._write("adding messages") as conn:
            if not rows.exists(conn, thread_id):
                raise rows.not_found(thread_id)
            return rows.insert_messages(conn, thread_id, messages, touch=True)

    def get_messages(self, thread_id: str) -> list[Message]:
        """Every message of a thread, oldest first (by ``seq``)."""
        with self._read("reading messages") as conn:
            messages = rows.select_messages(conn, thread_id)
            if not messages and not rows.exists(conn, thread_id):
                raise rows.not_found(thread_id)
        return messages
