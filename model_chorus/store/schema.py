"""The conversation database's tables, and the forward migrations between versions.

The schema version lives in ``PRAGMA user_version``. Each migration moves the
file from version N-1 to N inside one ``BEGIN IMMEDIATE`` transaction, so two
processes opening a fresh file at once cannot both apply it, and a crash halfway
leaves the previous version intact. Migrations only ever add: a file written by
an older model-chorus keeps every row. A file with a newer version than
``SCHEMA_VERSION`` is never touched (the caller refuses to open it).

Timestamps are ISO-8601 UTC text of one fixed width (``rows.ts``),
so text order is time order and the ``updated_at`` indexes serve "recent first".
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

#: Version the code writes; bump it together with a new entry in ``MIGRATIONS``.
SCHEMA_VERSION = 1

#: Name of the FTS5 index over message content; absent when FTS5 is not available.
FTS_TABLE = "messages_fts"

_V1 = """
CREATE TABLE IF NOT EXISTS threads (
    id          TEXT PRIMARY KEY,
    workflow    TEXT NOT NULL,
    title       TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'active',
    parent_id   TEXT REFERENCES threads(id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    metadata    TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS threads_recent ON threads(updated_at, id);
CREATE INDEX IF NOT EXISTS threads_workflow_recent ON threads(workflow, updated_at, id);
-- ON DELETE SET NULL looks children up by parent: without this index every delete scans.
CREATE INDEX IF NOT EXISTS threads_parent ON threads(parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS messages (
    id            INTEGER PRIMARY KEY,
    thread_id     TEXT NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    role          TEXT NOT NULL,
    content       TEXT NOT NULL,
    provider      TEXT,
    model         TEXT,
    files         TEXT NOT NULL DEFAULT '[]',
    input_tokens  INTEGER,
    output_tokens INTEGER,
    created_at    TEXT NOT NULL,
    metadata      TEXT NOT NULL DEFAULT '{}',
    UNIQUE (thread_id, seq)
);

CREATE TABLE IF NOT EXISTS thread_state (
    thread_id   TEXT NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    version     INTEGER NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (thread_id, key)
) WITHOUT ROWID;

-- No foreign key to threads: usage statistics outlive deleted threads.
CREATE TABLE IF NOT EXISTS call_records (
    id              INTEGER PRIMARY KEY,
    created_at      TEXT NOT NULL,
    correlation_id  TEXT NOT NULL,
    thread_id       TEXT,
    workflow        TEXT,
    provider        TEXT NOT NULL,
    model           TEXT,
    outcome         TEXT NOT NULL,
    latency_s       REAL NOT NULL,
    error_message   TEXT,
    input_tokens    INTEGER NOT NULL DEFAULT 0,
    output_tokens   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS call_records_created ON call_records(created_at);

CREATE TABLE IF NOT EXISTS breakers (
    provider    TEXT PRIMARY KEY,
    state       TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS response_cache (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    expires_at  REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS response_cache_expiry ON response_cache(expires_at);
"""

# External-content FTS5 index: the text lives once, in messages; triggers keep the
# index in step inside the writing transaction. remove_diacritics makes "wörld"
# match "world".
_FTS = f"""
CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(
    content, content='messages', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO {FTS_TABLE}(rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER IF NOT EXISTS messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER IF NOT EXISTS messages_fts_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, content) VALUES ('delete', old.id, old.content);
    INSERT INTO {FTS_TABLE}(rowid, content) VALUES (new.id, new.content);
END;
"""


def fts5_available(conn: sqlite3.Connection) -> bool:
    """Whether this SQLite build has FTS5 (some distributions' Pythons lack it).

    Probed by creating a table in the connection's private temp schema, which
    writes nothing to the database file. Tests monkeypatch this to force the
    LIKE fallback.
    """
    try:
        conn.execute("CREATE VIRTUAL TABLE temp._fts5_probe USING fts5(x)")
    except sqlite3.OperationalError:
        return False
    conn.execute("DROP TABLE temp._fts5_probe")
    return True


def _execute_script(conn: sqlite3.Connection, script: str) -> None:
    # executescript() would COMMIT our open transaction first; run statement by statement.
    statement = ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--"):
            continue
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""


def _migrate_to_1(conn: sqlite3.Connection) -> None:
    _execute_script(conn, _V1)
    if fts5_available(conn):
        _execute_script(conn, _FTS)


#: ``MIGRATIONS[n]`` upgrades a version n-1 file to version n.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _migrate_to_1}


def read_version(conn: sqlite3.Connection) -> int:
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(conn: sqlite3.Connection, target: int | None = None) -> int:
    """Apply each missing migration in its own ``BEGIN IMMEDIATE`` transaction.

    The version is re-read under the write lock, so when several processes open
    an old file at once exactly one of them migrates it. Returns the version the
    file has afterwards. The connection must be in autocommit mode
    (``isolation_level=None``).
    """
    target = SCHEMA_VERSION if target is None else target
    version = read_version(conn)
    while version < target:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = read_version(conn)
            if version < target:
                MIGRATIONS[version + 1](conn)
                version += 1
                # PRAGMA takes no parameters; the value is our own int.
                conn.execute(f"PRAGMA user_version = {version:d}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return version
