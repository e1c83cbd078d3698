"""The database file: opening it, and the read and write transactions every query runs in.

Concurrency model. The connection runs in autocommit mode
(``isolation_level=None``) and every write is one short explicit
``BEGIN IMMEDIATE ... COMMIT`` (``_write``): the write lock is taken up front,
where the busy timeout can wait for it. A deferred transaction that reads first
and writes later can fail with "database is locked" no matter the timeout, so
reads (``_read``) never write. WAL lets readers and one writer work at once;
``synchronous=NORMAL`` in WAL mode loses no committed transaction when a
process dies (only an OS crash can drop the last few).

Every sqlite3 error leaving the store is a ``StoreError`` naming the file and
what to do about it; callers never see a raw sqlite3 traceback.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import Self

from model_chorus.errors import StoreError
from model_chorus.store import schema

#: Seconds a writer waits for another process's transaction before giving up.
BUSY_TIMEOUT_S = 10.0


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


class StoreConnection:
    """One connection to the file, behind a lock so threads of one process can share it.

    Opening is cheap: the schema is only touched when the file's version is
    behind the code's.
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

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    # -- transactions ----------------------------------------------------------------

    @contextmanager
    def _write(self, action: str) -> Iterator[sqlite3.Connection]:
        """One short write transaction; the write lock is taken at BEGIN, where waiting works.

        Any exception inside rolls the whole transaction back: nothing of it is written.
        """
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
