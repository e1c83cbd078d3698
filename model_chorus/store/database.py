"""The conversation store: one SQLite file shared by every model-chorus process.

Concurrency model. The connection runs in autocommit mode
(``isolation_level=None``) and every write is one short explicit
``BEGIN IMMEDIATE ... COMMIT`` (``_write``): the write lock is taken up front,
where the busy timeout can wait for it. A deferred transaction that reads first
and writes later can fail with "database is locked" no matter the timeout, so
reads (``_read``) never write. WAL lets readers and one writer work at once;
``synchronous=NORMAL`` in WAL mode loses no committed transaction when a
process dies (only an OS crash can drop the last few).

Every sqlite3 error leaving this module is a ``StoreError`` naming the file and
what to do about it; callers never see a raw sqlite3 traceback.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from model_chorus.errors import InputError, StoreError, ThreadNotFoundError
from model_chorus.models import (
    Attempt,
    Message,
    Role,
    Thread,
    ThreadStatus,
    new_id,
    utcnow,
)
from model_chorus.store import schema

#: Seconds a writer waits for another process's transaction before giving up.
BUSY_TIMEOUT_S = 10.0
#: Shortest id prefix accepted (like git's abbreviated hashes).
MIN_PREFIX_LEN = 4
#: Stands for the most recently updated thread wherever a thread id is accepted.
LAST_THREAD = "last"
#: Marks the matched words in search snippets (Markdown bold reads well as plain text too).
HIGHLIGHT = ("**", "**")
_SNIPPET_CHARS = 160

_MESSAGE_COLUMNS = (
    "id, thread_id, seq, role, content, provider, model, files, "
    "input_tokens, output_tokens, created_at, metadata"
)
_THREAD_COLUMNS = "id, workflow, title, status, parent_id, created_at, updated_at, metadata"


@dataclass(frozen=True)
class SearchHit:
    thread_id: str
    workflow: str
    title: str
    message_id: int
    role: Role
    #: Text around the match, matched words wrapped in ``HIGHLIGHT``.
    snippet: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "thread_id": self.thread_id,
            "workflow": self.workflow,
            "title": self.title,
            "message_id": self.message_id,
            "role": str(self.role),
            "snippet": self.snippet,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class CallRecord:
    """One provider attempt as stored; ``model-chorus stats`` aggregates these."""

    provider: str
    model: str | None
    outcome: str
    latency_s: float
    error_message: str | None
    input_tokens: int
    output_tokens: int
    correlation_id: str
    thread_id: str | None
    workflow: str | None
    created_at: datetime

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def _ts(value: datetime) -> str:
    """Fixed-width UTC text, so that text order is time order. Naive values count as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _error_hint(message: str, path: Path) -> str:
    lowered = message.lower()
    if "locked" in lowered or "busy" in lowered:
        return (
            "Another model-chorus process kept the database busy for more than "
            f"{BUSY_TIMEOUT_S:.0f} s; try again."
        )
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        return (
            f"The file is damaged or is not a model-chorus database. Move it aside "
            f"(`mv {path} {path}.broken`) and a new one is created on the next run, "
            "or point MODEL_CHORUS_DATABASE at another file."
        )
    if "readonly" in lowered or "unable to open" in lowered or "permission" in lowered:
        return (
            f"Check that {path.parent} exists and is writable, or point "
            "MODEL_CHORUS_DATABASE (or `database` in the config file) at another file."
        )
    if "disk" in lowered and "full" in lowered:
        return "Free some disk space and try again."
    return "Run with --debug for details; if it persists, move the file aside to start afresh."


def _store_error(exc: BaseException, path: Path, action: str) -> StoreError:
    detail = str(exc) or type(exc).__name__
    return StoreError(
        f"Conversation database {path}: {action} failed ({detail}).",
        hint=_error_hint(detail, path),
    )


def _fts_query(words: Sequence[str]) -> str:
    """User words as an FTS5 query: every word must occur; ``word*`` matches by prefix.

    Each word is quoted, so FTS5 operators (AND, NEAR, ``-``, ``:``) in what a
    person typed are searched for, never interpreted. Prefixes are opt-in
    because a short common prefix makes FTS5 merge huge doclists (hundreds of
    milliseconds at a million messages), while a whole word stays fast.
    """
    terms = []
    for word in words:
        core = word.rstrip("*")
        star = "*" if core != word and core else ""
        terms.append('"' + (core or word).replace('"', '""') + '"' + star)
    return " ".join(terms)


def _like_pattern(word: str) -> str:
    word = word.rstrip("*") or word
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _python_snippet(content: str, words: Sequence[str]) -> str:
    """Snippet for the LIKE fallback, shaped like FTS5's: text around the first match."""
    lowered = content.lower()
    words = [w.rstrip("*") or w for w in words]
    hits = [(lowered.find(w.lower()), w) for w in words]
    found = [(pos, w) for pos, w in hits if pos >= 0]
    if not found:
        return content[:_SNIPPET_CHARS]
    pos, word = min(found)
    start = max(pos - _SNIPPET_CHARS // 3, 0)
    end = min(start + _SNIPPET_CHARS, len(content))
    before, match, after = (
        content[start:pos],
        content[pos : pos + len(word)],
        content[pos + len(word) : end],
    )
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(content) else ""
    return f"{prefix}{before}{HIGHLIGHT[0]}{match}{HIGHLIGHT[1]}{after}{suffix}"


class ConversationDatabase:
    """Threads, messages, workflow state, call records, breaker state and the response cache.

    Safe to share between threads of one process (one connection behind a lock)
    and between processes (SQLite locking, WAL). Opening is cheap: the schema is
    only touched when the file's version is behind the code's.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path).expanduser()
        self._lock = threading.RLock()
        self._fts: bool | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"Cannot create the directory for the conversation database {self.path}: "
                f"{exc.strerror or exc}.",
                hint=_error_hint("unable to open", self.path),
            ) from None
        try:
            self._conn = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_S,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise _store_error(exc, self.path, "opening") from None
        try:
            self._schema_version = self._open()
        except BaseException as exc:
            self._conn.close()
            if isinstance(exc, sqlite3.Error):
                raise _store_error(exc, self.path, "opening") from None
            raise

    def _open(self) -> int:
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000):d}")
        # Read the version before anything that could write: a newer file stays untouched.
        version = schema.read_version(conn)
        if version > schema.SCHEMA_VERSION:
            raise StoreError(
                f"Conversation database {self.path} was written by a newer model-chorus "
                f"(schema version {version}; this version understands up to "
                f"{schema.SCHEMA_VERSION}).",
                hint="Upgrade model-chorus (`pip install -U model-chorus`), or point "
                "MODEL_CHORUS_DATABASE at another file. The file was not changed.",
            )
        self._enable_wal()
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        if version < schema.SCHEMA_VERSION:
            version = schema.migrate(conn)
        return version

    def _enable_wal(self) -> None:
        """Switch the file to WAL (once, when it is new), retrying while others hold it.

        The switch needs the file to itself, and SQLite reports "locked" at once
        instead of calling the busy handler when another process is reading it
        (several processes opening a brand-new file at the same moment), so
        waiting is done here, up to the same busy timeout.
        """
        conn = self._conn
        if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
            return
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        delay = 0.002
        while True:
            try:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc).lower() or time.monotonic() > deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
        if str(mode).lower() != "wal":
            raise sqlite3.OperationalError(f"cannot switch to WAL journal mode (got {mode!r})")

    # -- lifecycle -------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return self._schema_version

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> ConversationDatabase:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ConversationDatabase({str(self.path)!r})"

    # -- transactions ----------------------------------------------------------------

    @contextmanager
    def _write(self, action: str) -> Iterator[sqlite3.Connection]:
        """One short write transaction; the write lock is taken at BEGIN, where waiting works."""
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise _store_error(exc, self.path, action) from None
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    # The original error says more than a failed rollback would.
                    with suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise _store_error(exc, self.path, action) from None
                raise

    @contextmanager
    def _read(self, action: str) -> Iterator[sqlite3.Connection]:
        """A read snapshot over several statements; never writes, so never upgrades a lock."""
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN DEFERRED")
                try:
                    yield conn
                finally:
                    if conn.in_transaction:
                        conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise _store_error(exc, self.path, action) from None

    @property
    def fts_enabled(self) -> bool:
        """Whether search uses the FTS5 index (else a LIKE scan)."""
        if self._fts is None:
            with self._read("checking the search index") as conn:
                row = conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                    (schema.FTS_TABLE,),
                ).fetchone()
            self._fts = row is not None
        return self._fts

    # -- threads ---------------------------------------------------------------------

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
            if parent_id is not None and not self._exists(conn, parent_id):
                raise ThreadNotFoundError(
                    f"Parent thread {parent_id} does not exist.",
                    hint="Run `model-chorus threads list` to see the stored threads.",
                )
            if thread_id is not None and self._exists(conn, thread_id):
                raise InputError(f"A thread with id {thread_id} already exists.")
            self._insert_thread(conn, thread)
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
            if self._exists(conn, thread.id):
                return False
            self._insert_thread(conn, replace(thread, parent_id=None))
            self._insert_messages(conn, thread.id, thread.messages, touch=False)
            for key, value in (state or {}).items():
                self._set_state(conn, thread.id, key, value, thread.updated_at)
        return True

    def set_parent(self, thread_id: str, parent_id: str | None) -> None:
        """Link a thread to its parent without touching ``updated_at`` (used by imports)."""
        with self._write("linking a thread to its parent") as conn:
            if parent_id is not None and not self._exists(conn, parent_id):
                raise ThreadNotFoundError(f"Parent thread {parent_id} does not exist.")
            cursor = conn.execute(
                "UPDATE threads SET parent_id = ? WHERE id = ?", (parent_id, thread_id)
            )
            if cursor.rowcount == 0:
                raise self._not_found(thread_id)

    def existing_thread_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` are stored (one query per 500 ids)."""
        found: set[str] = set()
        with self._read("looking up threads") as conn:
            for start in range(0, len(ids), 500):
                chunk = list(ids[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(f"SELECT id FROM threads WHERE id IN ({marks})", chunk)
                found.update(row[0] for row in rows)
        return found

    def resolve_thread_id(self, id_or_prefix: str, *, workflow: str | None = None) -> str:
        """The full id of a thread given its id, a unique prefix of at least 4 characters,
        or ``last``: the most recently updated thread (of ``workflow``, when given)."""
        wanted = id_or_prefix.strip()
        if wanted == LAST_THREAD:
            return self._last_thread_id(workflow)
        with self._read("looking up a thread") as conn:
            if wanted and self._exists(conn, wanted):
                return wanted
            matches: list[str] = []
            if len(wanted) >= MIN_PREFIX_LEN:
                # A range scan on the primary key; LIKE could not use the index.
                upper = wanted[:-1] + chr(ord(wanted[-1]) + 1)
                matches = [
                    row[0]
                    for row in conn.execute(
                        "SELECT id FROM threads WHERE id >= ? AND id < ? ORDER BY id LIMIT 6",
                        (wanted, upper),
                    )
                ]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise self._not_found(wanted)
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
                f"SELECT {_THREAD_COLUMNS} FROM threads WHERE id = ?", (thread_id,)
            ).fetchone()
            if row is None:  # deleted between resolving and reading
                raise self._not_found(thread_id)
            thread = self._thread_from_row(row)
            if with_messages:
                thread.messages = self._select_messages(conn, thread_id)
                thread.message_count = len(thread.messages)
            else:
                thread.message_count = self._count_messages(conn, thread_id)
        return thread

    def update_thread(
        self,
        thread_id: str,
        *,
        title: str | None = None,
        status: ThreadStatus | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Change what is given (metadata is replaced, not merged) and mark the thread updated."""
        sets = ["updated_at = ?"]
        values: list[Any] = [_ts(utcnow())]
        if title is not None:
            sets.append("title = ?")
            values.append(title)
        if status is not None:
            sets.append("status = ?")
            values.append(str(ThreadStatus(status)))
        if metadata is not None:
            sets.append("metadata = ?")
            values.append(_json(metadata))
        with self._write("updating a thread") as conn:
            cursor = conn.execute(
                f"UPDATE threads SET {', '.join(sets)} WHERE id = ?", (*values, thread_id)
            )
            if cursor.rowcount == 0:
                raise self._not_found(thread_id)

    def list_threads(
        self, *, workflow: str | None = None, limit: int = 20, offset: int = 0
    ) -> list[Thread]:
        """Most recently updated first; messages are not loaded, ``message_count`` is set."""
        where = "WHERE workflow = ?" if workflow is not None else ""
        params: list[Any] = [workflow] if workflow is not None else []
        sql = (
            f"SELECT {_THREAD_COLUMNS}, "
            "(SELECT count(*) FROM messages m WHERE m.thread_id = t.id) "
            f"FROM threads t {where} ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?"
        )
        with self._read("listing threads") as conn:
            rows = conn.execute(sql, (*params, max(limit, 0), max(offset, 0))).fetchall()
        threads = []
        for row in rows:
            thread = self._thread_from_row(row[:8])
            thread.message_count = int(row[8])
            threads.append(thread)
        return threads

    def delete_thread(self, thread_id: str) -> None:
        """Delete a thread with its messages and state; its children stay, unparented."""
        with self._write("deleting a thread") as conn:
            cursor = conn.execute("DELETE FROM threads WHERE id = ?", (thread_id,))
            if cursor.rowcount == 0:
                raise self._not_found(thread_id)

    def prune(self, older_than: timedelta, *, dry_run: bool = False) -> list[str]:
        """Delete threads not updated for ``older_than``; returns their ids (oldest first).

        The only way threads ever leave the store: nothing expires on its own.
        """
        if older_than < timedelta(0):
            raise InputError("The age for pruning must not be negative.")
        cutoff = _ts(utcnow() - older_than)
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
            if not self._exists(conn, thread_id):
                raise self._not_found(thread_id)
            return self._insert_messages(conn, thread_id, messages, touch=True)

    def get_messages(self, thread_id: str) -> list[Message]:
        """Every message of a thread, oldest first (by ``seq``)."""
        with self._read("reading messages") as conn:
            messages = self._select_messages(conn, thread_id)
            if not messages and not self._exists(conn, thread_id):
                raise self._not_found(thread_id)
        return messages

    # -- search ----------------------------------------------------------------------

    def search(self, text: str, *, limit: int = 20, workflow: str | None = None) -> list[SearchHit]:
        """Messages containing every word of ``text``, newest first.

        With FTS5, words match whole words ignoring case and accents, and
        ``word*`` matches words starting with ``word``. Without FTS5 (or for
        text with no letters or digits, which FTS5 cannot index) each word is
        matched as a substring with LIKE. Newest-first rather than by relevance:
        FTS5 walks its index backwards and stops at ``limit``, so a common word
        costs as little as a rare one.
        """
        words = text.split()
        if not words:
            raise InputError("The search text is empty.", hint="Give one or more words to find.")
        if workflow is not None and not self._has_workflow(workflow):
            return []  # spares walking every match of a common word for nothing
        if self.fts_enabled and any(ch.isalnum() for word in words for ch in word):
            return self._search_fts(words, limit, workflow)
        return self._search_like(words, limit, workflow)

    def _has_workflow(self, workflow: str) -> bool:
        with self._read("searching") as conn:
            row = conn.execute(
                "SELECT 1 FROM threads WHERE workflow = ? LIMIT 1", (workflow,)
            ).fetchone()
        return row is not None

    def _search_fts(self, words: list[str], limit: int, workflow: str | None) -> list[SearchHit]:
        fts = schema.FTS_TABLE
        sql = (
            "SELECT m.thread_id, t.workflow, t.title, m.id, m.role, "
            f"snippet({fts}, 0, ?, ?, '…', 16), m.created_at "
            f"FROM {fts} JOIN messages m ON m.id = {fts}.rowid "
            "JOIN threads t ON t.id = m.thread_id "
            f"WHERE {fts} MATCH ? "
            + ("AND t.workflow = ? " if workflow is not None else "")
            + f"ORDER BY {fts}.rowid DESC LIMIT ?"
        )
        params: list[Any] = [*HIGHLIGHT, _fts_query(words)]
        if workflow is not None:
            params.append(workflow)
        params.append(max(limit, 0))
        with self._read("searching") as conn:
            rows = conn.execute(sql, params).fetchall()
        return [self._hit_from_row(row) for row in rows]

    def _search_like(self, words: list[str], limit: int, workflow: str | None) -> list[SearchHit]:
        conditions = ["m.content LIKE ? ESCAPE '\\'" for _ in words]
        params: list[Any] = [_like_pattern(w) for w in words]
        if workflow is not None:
            conditions.append("t.workflow = ?")
            params.append(workflow)
        sql = (
            "SELECT m.thread_id, t.workflow, t.title, m.id, m.role, m.content, m.created_at "
            "FROM messages m JOIN threads t ON t.id = m.thread_id "
            f"WHERE {' AND '.join(conditions)} ORDER BY m.id DESC LIMIT ?"
        )
        params.append(max(limit, 0))
        with self._read("searching") as conn:
            rows = conn.execute(sql, params).fetchall()
        return [
            self._hit_from_row((*row[:5], _python_snippet(row[5], words), row[6])) for row in rows
        ]

    # -- statistics and export -------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        with self._read("collecting statistics") as conn:
            threads = conn.execute("SELECT count(*) FROM threads").fetchone()[0]
            messages = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
            by_workflow = dict(
                conn.execute(
                    "SELECT workflow, count(*) FROM threads GROUP BY workflow ORDER BY workflow"
                ).fetchall()
            )
            oldest, newest = conn.execute(
                "SELECT min(created_at), max(updated_at) FROM threads"
            ).fetchone()
            calls = conn.execute("SELECT count(*) FROM call_records").fetchone()[0]
        size = 0
        for suffix in ("", "-wal"):
            with suppress(OSError):
                size += Path(f"{self.path}{suffix}").stat().st_size
        return {
            "path": str(self.path),
            "schema_version": self.schema_version,
            "threads": threads,
            "messages": messages,
            "by_workflow": by_workflow,
            "call_records": calls,
            "oldest_thread": oldest,
            "newest_activity": newest,
            "size_bytes": size,
            "fts": self.fts_enabled,
        }

    def get_all_state(self, thread_id: str) -> dict[str, dict[str, Any]]:
        """Every workflow-state entry of a thread, by key."""
        with self._read("reading workflow state") as conn:
            rows = conn.execute(
                "SELECT key, value FROM thread_state WHERE thread_id = ? ORDER BY key",
                (thread_id,),
            ).fetchall()
        return {key: json.loads(value) for key, value in rows}

    def export_thread(self, thread_id: str, fmt: Literal["md", "json"]) -> str:
        """The whole thread (messages and workflow state) as Markdown or a JSON document."""
        thread = self.get_thread(thread_id)
        state = self.get_all_state(thread.id)
        if fmt == "json":
            data = {"export_version": 1, **thread.to_dict(with_messages=True), "state": state}
            return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        if fmt == "md":
            return _thread_markdown(thread, state)
        raise InputError(f"Unknown export format {fmt!r}.", hint="Use md or json.")

    # -- per-thread workflow state ---------------------------------------------------

    def get_state(self, thread_id: str, key: str) -> dict[str, Any] | None:
        with self._read("reading workflow state") as conn:
            row = conn.execute(
                "SELECT value FROM thread_state WHERE thread_id = ? AND key = ?", (thread_id, key)
            ).fetchone()
        if row is None:
            return None
        value: dict[str, Any] = json.loads(row[0])
        return value

    def set_state(self, thread_id: str, key: str, value: dict[str, Any]) -> int:
        """Replace the state under ``key``; returns its new version (1 for the first write)."""
        with self._write("saving workflow state") as conn:
            if not self._exists(conn, thread_id):
                raise self._not_found(thread_id)
            return self._set_state(conn, thread_id, key, value, utcnow())

    def get_state_version(self, thread_id: str, key: str) -> int:
        """Version of the stored state under ``key``; 0 when there is none."""
        with self._read("reading workflow state") as conn:
            row = conn.execute(
                "SELECT version FROM thread_state WHERE thread_id = ? AND key = ?",
                (thread_id, key),
            ).fetchone()
        return int(row[0]) if row else 0

    # -- provider call records -------------------------------------------------------

    def record_call(
        self,
        attempt: Attempt,
        *,
        correlation_id: str,
        thread_id: str | None = None,
        workflow: str | None = None,
        created_at: datetime | None = None,
    ) -> None:
        with self._write("recording a provider call") as conn:
            conn.execute(
                "INSERT INTO call_records (created_at, correlation_id, thread_id, workflow, "
                "provider, model, outcome, latency_s, error_message, input_tokens, output_tokens) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _ts(created_at or utcnow()),
                    correlation_id,
                    thread_id,
                    workflow,
                    attempt.provider,
                    attempt.model,
                    attempt.outcome,
                    float(attempt.latency_s),
                    attempt.error_message,
                    attempt.usage.input_tokens,
                    attempt.usage.output_tokens,
                ),
            )

    def call_records(self, *, since: datetime | None = None) -> list[CallRecord]:
        """Provider attempts, oldest first; only those at or after ``since`` when given."""
        sql = (
            "SELECT provider, model, outcome, latency_s, error_message, input_tokens, "
            "output_tokens, correlation_id, thread_id, workflow, created_at FROM call_records"
        )
        params: tuple[Any, ...] = ()
        if since is not None:
            sql += " WHERE created_at >= ?"
            params = (_ts(since),)
        sql += " ORDER BY created_at, id"
        with self._read("reading call records") as conn:
            rows = conn.execute(sql, params).fetchall()
        return [
            CallRecord(
                provider=row[0],
                model=row[1],
                outcome=row[2],
                latency_s=row[3],
                error_message=row[4],
                input_tokens=row[5],
                output_tokens=row[6],
                correlation_id=row[7],
                thread_id=row[8],
                workflow=row[9],
                created_at=_dt(row[10]),
            )
            for row in rows
        ]

    # -- circuit breaker state -------------------------------------------------------

    def get_breaker(self, provider: str) -> dict[str, Any] | None:
        with self._read("reading breaker state") as conn:
            row = conn.execute(
                "SELECT state FROM breakers WHERE provider = ?", (provider,)
            ).fetchone()
        if row is None:
            return None
        state: dict[str, Any] = json.loads(row[0])
        return state

    def set_breaker(self, provider: str, state: dict[str, Any]) -> None:
        with self._write("saving breaker state") as conn:
            self._put_breaker(conn, provider, state)

    def update_breaker(
        self, provider: str, fn: Callable[[dict[str, Any] | None], dict[str, Any]]
    ) -> dict[str, Any]:
        """Read-modify-write under the write lock, so concurrent processes never lose an update.

        ``fn`` runs inside the transaction: keep it quick and free of I/O.
        """
        with self._write("updating breaker state") as conn:
            row = conn.execute(
                "SELECT state FROM breakers WHERE provider = ?", (provider,)
            ).fetchone()
            new_state = fn(json.loads(row[0]) if row else None)
            self._put_breaker(conn, provider, new_state)
        return new_state

    # -- response cache --------------------------------------------------------------

    def cache_get(self, key: str) -> str | None:
        """The cached value, or None when missing or expired (expired rows go at the next put)."""
        with self._read("reading the response cache") as conn:
            row = conn.execute(
                "SELECT value FROM response_cache WHERE key = ? AND expires_at > ?",
                (key, time.time()),
            ).fetchone()
        return None if row is None else str(row[0])

    def cache_put(self, key: str, value: str, *, ttl_s: float) -> None:
        now = time.time()
        with self._write("writing the response cache") as conn:
            conn.execute("DELETE FROM response_cache WHERE expires_at <= ?", (now,))
            conn.execute(
                "INSERT OR REPLACE INTO response_cache (key, value, expires_at) VALUES (?, ?, ?)",
                (key, value, now + ttl_s),
            )

    # -- row helpers (run inside a transaction) --------------------------------------

    def _not_found(self, thread_id: str) -> ThreadNotFoundError:
        short = (
            f" (a prefix needs at least {MIN_PREFIX_LEN} characters)"
            if 0 < len(thread_id) < MIN_PREFIX_LEN
            else ""
        )
        return ThreadNotFoundError(
            f"No thread with id {thread_id!r}{short}.",
            hint="Run `model-chorus threads list` to see the stored threads.",
        )

    @staticmethod
    def _exists(conn: sqlite3.Connection, thread_id: str) -> bool:
        row = conn.execute("SELECT 1 FROM threads WHERE id = ?", (thread_id,)).fetchone()
        return row is not None

    @staticmethod
    def _count_messages(conn: sqlite3.Connection, thread_id: str) -> int:
        row = conn.execute("SELECT count(*) FROM messages WHERE thread_id = ?", (thread_id,))
        return int(row.fetchone()[0])

    @staticmethod
    def _insert_thread(conn: sqlite3.Connection, thread: Thread) -> None:
        conn.execute(
            f"INSERT INTO threads ({_THREAD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                thread.id,
                thread.workflow,
                thread.title,
                str(thread.status),
                thread.parent_id,
                _ts(thread.created_at),
                _ts(thread.updated_at),
                _json(thread.metadata),
            ),
        )

    @staticmethod
    def _insert_messages(
        conn: sqlite3.Connection, thread_id: str, messages: Sequence[Message], *, touch: bool
    ) -> list[Message]:
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
                f"INSERT INTO messages ({_MESSAGE_COLUMNS}) "
                "VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    thread_id,
                    seq,
                    str(Role(message.role)),
                    message.content,
                    message.provider,
                    message.model,
                    _json(list(message.files)),
                    message.input_tokens,
                    message.output_tokens,
                    _ts(message.created_at),
                    _json(message.metadata),
                ),
            )
            stored.append(replace(message, id=cursor.lastrowid, thread_id=thread_id, seq=seq))
        if touch and stored:
            newest = max(_ts(m.created_at) for m in stored)
            conn.execute(
                "UPDATE threads SET updated_at = max(updated_at, ?) WHERE id = ?",
                (newest, thread_id),
            )
        return stored

    @staticmethod
    def _select_messages(conn: sqlite3.Connection, thread_id: str) -> list[Message]:
        rows = conn.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE thread_id = ? ORDER BY seq",
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
                created_at=_dt(row[10]),
                metadata=json.loads(row[11]),
            )
            for row in rows
        ]

    @staticmethod
    def _set_state(
        conn: sqlite3.Connection,
        thread_id: str,
        key: str,
        value: dict[str, Any],
        when: datetime,
    ) -> int:
        row = conn.execute(
            "SELECT version FROM thread_state WHERE thread_id = ? AND key = ?", (thread_id, key)
        ).fetchone()
        version = (int(row[0]) if row else 0) + 1
        conn.execute(
            "INSERT OR REPLACE INTO thread_state (thread_id, key, value, version, updated_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (thread_id, key, _json(value), version, _ts(when)),
        )
        return version

    @staticmethod
    def _put_breaker(conn: sqlite3.Connection, provider: str, state: dict[str, Any]) -> None:
        conn.execute(
            "INSERT OR REPLACE INTO breakers (provider, state, updated_at) VALUES (?, ?, ?)",
            (provider, _json(state), _ts(utcnow())),
        )

    @staticmethod
    def _thread_from_row(row: Sequence[Any]) -> Thread:
        return Thread(
            id=row[0],
            workflow=row[1],
            title=row[2],
            status=ThreadStatus(row[3]),
            parent_id=row[4],
            created_at=_dt(row[5]),
            updated_at=_dt(row[6]),
            metadata=json.loads(row[7]),
        )

    @staticmethod
    def _hit_from_row(row: Sequence[Any]) -> SearchHit:
        return SearchHit(
            thread_id=row[0],
            workflow=row[1],
            title=row[2],
            message_id=row[3],
            role=Role(row[4]),
            snippet=row[5],
            created_at=_dt(row[6]),
        )


def _thread_markdown(thread: Thread, state: dict[str, dict[str, Any]]) -> str:
    lines = [f"# {thread.title or thread.workflow + ' thread'}", ""]
    lines += [
        f"- **Thread:** `{thread.id}`",
        f"- **Workflow:** {thread.workflow}",
        f"- **Status:** {thread.status}",
        f"- **Created:** {thread.created_at.isoformat()}",
        f"- **Updated:** {thread.updated_at.isoformat()}",
    ]
    if thread.parent_id:
        lines.append(f"- **Parent:** `{thread.parent_id}`")
    lines.append("")
    for message in thread.messages:
        who = "User" if message.role == Role.USER else str(message.role).capitalize()
        source = " · ".join(x for x in (message.provider, message.model) if x)
        heading = f"## {message.seq}. {who}" + (f" ({source})" if source else "")
        lines += [heading, "", f"*{message.created_at.isoformat()}*", ""]
        if message.files:
            lines += ["Files: " + ", ".join(f"`{name}`" for name in message.files), ""]
        lines += [message.content, ""]
    if state:
        lines += ["## Workflow state", ""]
        for key, value in state.items():
            body = json.dumps(value, ensure_ascii=False, indent=2)
            lines += [f"### {key}", "", "```json", body, "```", ""]
    return "\n".join(lines).rstrip() + "\n"
