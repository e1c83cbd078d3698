"""ConversationDatabase: threads, messages, search, state, records, breaker, cache, errors."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from model_chorus.errors import InputError, StoreError, ThreadNotFoundError
from model_chorus.models import Attempt, Message, Role, ThreadStatus, TokenUsage, utcnow
from model_chorus.store import schema
from model_chorus.store.database import HIGHLIGHT, ConversationDatabase


@pytest.fixture
def db(tmp_path: Path):
    database = ConversationDatabase(tmp_path / "data" / "chorus.db")
    yield database
    database.close()


def user(text: str, **kwargs) -> Message:
    return Message(role=Role.USER, content=text, **kwargs)


def assistant(text: str, **kwargs) -> Message:
    return Message(role=Role.ASSISTANT, content=text, **kwargs)


# -- opening ----------------------------------------------------------------------------


def test_open_creates_parent_dirs_and_sets_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "chorus.db"
    with ConversationDatabase(path) as db:
        assert path.is_file()
        assert db.schema_version == schema.SCHEMA_VERSION
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
        conn.close()
        assert db._conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db._conn.execute("PRAGMA busy_timeout").fetchone()[0] == 10_000
        assert db._conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL


def test_reopen_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "chorus.db"
    with ConversationDatabase(path) as db:
        thread = db.create_thread("chat", title="kept")
        db.add_message(thread.id, user("hello"))
    with ConversationDatabase(path) as db:
        again = db.get_thread(thread.id)
        assert again.title == "kept"
        assert [m.content for m in again.messages] == ["hello"]


def test_newer_schema_is_refused_and_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "chorus.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE future (x)")
    conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 5}")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError) as info:
        ConversationDatabase(path)
    assert "newer model-chorus" in info.value.message
    assert str(path) in info.value.message
    assert info.value.hint and "Upgrade" in info.value.hint
    assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists()


def test_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "chorus.db"
    path.write_bytes(b"this is not sqlite at all, just some text" * 100)
    with pytest.raises(StoreError) as info:
        ConversationDatabase(path)
    assert str(path) in info.value.message
    assert info.value.hint and "Move it aside" in info.value.hint


def test_corrupted_pages_are_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "chorus.db"
    with ConversationDatabase(path) as db:
        thread = db.create_thread("chat")
        db.add_messages(thread.id, [user("x" * 2000) for _ in range(50)])
        db._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(page, len(data), 7):  # keep the header, scribble over the rest
        data[offset] = 0xA5
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError) as info:
        db = ConversationDatabase(path)
        db.get_thread(thread.id)
    assert str(path) in info.value.message


def test_parent_path_that_is_a_file_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(StoreError) as info:
        ConversationDatabase(blocker / "chorus.db")
    assert "not-a-dir" in info.value.message
    assert info.value.hint and "writable" in info.value.hint


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_directory_is_a_store_error(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(StoreError):
            ConversationDatabase(folder / "chorus.db").create_thread("chat")
    finally:
        folder.chmod(0o700)


def test_forward_migration_runs_once_and_keeps_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "chorus.db"
    with ConversationDatabase(path) as db:
        thread = db.create_thread("chat", title="old")
    calls = []

    def to_2(conn: sqlite3.Connection) -> None:
        calls.append(1)
        conn.execute("ALTER TABLE threads ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0")

    monkeypatch.setattr(schema, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(schema.MIGRATIONS, 2, to_2)
    with ConversationDatabase(path) as db:
        assert db.schema_version == 2
        assert db.get_thread(thread.id).title == "old"
    with ConversationDatabase(path) as db:
        assert db.schema_version == 2
    assert calls == [1]


def test_failed_migration_leaves_previous_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "chorus.db"
    ConversationDatabase(path).close()

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE threads ADD COLUMN pinned INTEGER")
        conn.execute("THIS IS NOT SQL")

    monkeypatch.setattr(schema, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(schema.MIGRATIONS, 2, broken)
    with pytest.raises(StoreError):
        ConversationDatabase(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    columns = [row[1] for row in conn.execute("PRAGMA table_info(threads)")]
    assert "pinned" not in columns
    conn.close()


# -- threads ----------------------------------------------------------------------------


def test_create_and_get_thread_round_trips_everything(db: ConversationDatabase) -> None:
    created = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=2)))
    parent = db.create_thread("chat")
    thread = db.create_thread(
        "thinkdeep",
        title="Ünïcode 量子",
        parent_id=parent.id,
        metadata={"k": [1, "ü"]},
        status=ThreadStatus.COMPLETED,
        created_at=created,
    )
    got = db.get_thread(thread.id)
    assert got.workflow == "thinkdeep"
    assert got.title == "Ünïcode 量子"
    assert got.parent_id == parent.id
    assert got.metadata == {"k": [1, "ü"]}
    assert got.status == ThreadStatus.COMPLETED
    assert got.created_at == created  # same instant, returned in UTC
    assert got.created_at.tzinfo is not None
    assert got.updated_at == created
    assert got.messages == [] and got.message_count == 0


def test_create_thread_rejects_unknown_parent_and_duplicate_id(db: ConversationDatabase) -> None:
    with pytest.raises(ThreadNotFoundError):
        db.create_thread("chat", parent_id="nope")
    db.create_thread("chat", thread_id="fixed-id")
    with pytest.raises(InputError):
        db.create_thread("chat", thread_id="fixed-id")


def test_messages_get_seq_ids_and_round_trip(db: ConversationDatabase) -> None:
    thread = db.create_thread("chat")
    when = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    first = db.add_message(
        thread.id,
        user(
            "Hé 量子 ✓",
            files=["src/a.py"],
            metadata={"step": 1},
            created_at=when,
        ),
    )
    rest = db.add_messages(
        thread.id,
        [
            assistant("one", provider="claude", model="sonnet", input_tokens=10, output_tokens=3),
            user("two"),
        ],
    )
    assert (first.seq, first.thread_id) == (1, thread.id)
    assert [m.seq for m in rest] == [2, 3]
    assert first.id is not None and rest[0].id is not None and rest[0].id > first.id
    stored = db.get_messages(thread.id)
    assert stored == [first, *rest]
    assert stored[0].created_at == when
    assert stored[0].files == ["src/a.py"] and stored[0].metadata == {"step": 1}
    assert (stored[1].provider, stored[1].model) == ("claude", "sonnet")
    assert (stored[1].input_tokens, stored[1].output_tokens) == (10, 3)


def test_add_message_does_not_mutate_the_argument(db: ConversationDatabase) -> None:
    thread = db.create_thread("chat")
    message = user("hi")
    stored = db.add_message(thread.id, message)
    assert message.id is None and message.seq is None
    assert stored.id is not None


def test_add_message_to_unknown_thread(db: ConversationDatabase) -> None:
    with pytest.raises(ThreadNotFoundError) as info:
        db.add_message("missing-thread", user("hi"))
    assert "missing-thread" in info.value.message
    assert info.value.hint and "threads list" in info.value.hint
    with pytest.raises(ThreadNotFoundError):
        db.get_messages("missing-thread")


def test_add_messages_is_one_transaction(db: ConversationDatabase) -> None:
    thread = db.create_thread("chat")
    bad = Message(role="wizard", content="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        db.add_messages(thread.id, [user("a"), bad])
    assert db.get_messages(thread.id) == []


def test_adding_messages_moves_updated_at(db: ConversationDatabase) -> None:
    old = datetime(2020, 1, 1, tzinfo=UTC)
    thread = db.create_thread("chat", created_at=old)
    db.add_message(thread.id, user("hi"))
    assert db.get_thread(thread.id).updated_at > old
    # an older message never moves it back
    db.add_message(thread.id, user("late", created_at=old))
    assert db.get_thread(thread.id).updated_at > old


def test_resolve_by_prefix(db: ConversationDatabase) -> None:
    a = db.create_thread("chat", thread_id="abcd1234-0000")
    db.create_thread("chat", thread_id="abcd9999-0000")
    assert db.resolve_thread_id(a.id) == a.id
    assert db.resolve_thread_id("abcd1") == a.id
    assert db.resolve_thread_id("  abcd1  ") == a.id
    assert db.get_thread("abcd12").id == a.id
    with pytest.raises(InputError) as info:
        db.resolve_thread_id("abcd")
    assert not isinstance(info.value, ThreadNotFoundError)
    assert "abcd1234-0000" in info.value.message and "abcd9999-0000" in info.value.message
    with pytest.raises(ThreadNotFoundError) as missing:
        db.resolve_thread_id("abc")  # too short to be a prefix
    assert "at least 4" in missing.value.message
    with pytest.raises(ThreadNotFoundError) as unknown:
        db.resolve_thread_id("zzzz")
    assert "zzzz" in unknown.value.message
    assert unknown.value.hint and "model-chorus threads list" in unknown.value.hint


def test_list_threads_newest_first_with_counts(db: ConversationDatabase) -> None:
    base = datetime(2024, 1, 1, tzinfo=UTC)
    ids = []
    for i in range(5):
        workflow = "chat" if i % 2 == 0 else "consensus"
        t = db.create_thread(workflow, title=f"t{i}", created_at=base + timedelta(days=i))
        db.add_messages(
            t.id, [user(f"m{j}", created_at=base + timedelta(days=i)) for j in range(i)]
        )
        ids.append(t.id)
    listed = db.list_threads()
    assert [t.id for t in listed] == ids[::-1]
    assert [t.message_count for t in listed] == [4, 3, 2, 1, 0]
    assert all(t.messages == [] for t in listed)
    assert [t.title for t in db.list_threads(workflow="chat")] == ["t4", "t2", "t0"]
    assert [t.title for t in db.list_threads(limit=2, offset=1)] == ["t3", "t2"]
    assert db.list_threads(workflow="nope") == []
    # a new message brings an old thread to the top
    db.add_message(ids[0], user("bump"))
    assert db.list_threads(limit=1)[0].id == ids[0]


def test_delete_thread_cascades_and_unparents_children(db: ConversationDatabase) -> None:
    parent = db.create_thread("chat")
    child = db.create_thread("chat", parent_id=parent.id)
    db.add_message(parent.id, user("needle in parent"))
    db.save_turn(parent, [], state_key="k", state={"a": 1})
    db.delete_thread(parent.id)
    with pytest.raises(ThreadNotFoundError):
        db.get_thread(parent.id)
    assert db.get_thread(child.id).parent_id is None
    assert db.search("needle") == []
    assert db.get_state(parent.id, "k") is None
    assert db._conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
    with pytest.raises(ThreadNotFoundError):
        db.delete_thread(parent.id)


def test_prune_by_updated_at(db: ConversationDatabase) -> None:
    now = utcnow()
    old = db.create_thread("chat", created_at=now - timedelta(days=40))
    db.add_message(old.id, user("old", created_at=now - timedelta(days=40)))
    revived = db.create_thread("chat", created_at=now - timedelta(days=60))
    db.add_message(revived.id, user("new"))  # updated now
    fresh = db.create_thread("chat")
    assert db.prune(timedelta(days=30), dry_run=True) == [old.id]
    assert {t.id for t in db.list_threads()} == {old.id, revived.id, fresh.id}
    assert db.prune(timedelta(days=30)) == [old.id]
    assert {t.id for t in db.list_threads()} == {revived.id, fresh.id}
    assert db.prune(timedelta(days=30)) == []
    with pytest.raises(InputError):
        db.prune(timedelta(days=-1))


def test_old_threads_never_expire_on_read(db: ConversationDatabase) -> None:
    ancient = datetime(2001, 1, 1, tzinfo=UTC)
    thread = db.create_thread("chat", created_at=ancient)
    db.add_message(thread.id, user("still here", created_at=ancient))
    assert db.get_thread(thread.id).messages[0].content == "still here"
    assert [t.id for t in db.list_threads()] == [thread.id]


# -- search -----------------------------------------------------------------------------


def _search_corpus(db: ConversationDatabase) -> dict[str, str]:
    chat = db.create_thread("chat", title="Quantum")
    deep = db.create_thread("thinkdeep", title="Auth")
    db.add_messages(
        chat.id,
        [user("What is quantum computing? Ünïcode: 量子"), assistant("It uses qubits…")],
    )
    db.add_messages(deep.id, [user('Token refresh race; NEAR AND - : "quotes" 100%_done')])
    return {"chat": chat.id, "deep": deep.id}


@pytest.mark.parametrize("fts", [True, False], ids=["fts5", "like-fallback"])
def test_search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fts: bool) -> None:
    if not fts:
        monkeypatch.setattr(schema, "fts5_available", lambda conn: False)
    with ConversationDatabase(tmp_path / "chorus.db") as db:
        assert db.fts_enabled is fts
        assert db.stats()["fts"] is fts
        ids = _search_corpus(db)
        hits = db.search("quantum")
        assert [(h.thread_id, h.role, h.title, h.workflow) for h in hits] == [
            (ids["chat"], Role.USER, "Quantum", "chat")
        ]
        assert f"{HIGHLIGHT[0]}quantum{HIGHLIGHT[1]}" in hits[0].snippet
        assert hits[0].created_at.tzinfo is not None
        assert [h.role for h in db.search("QUBITS")] == [Role.ASSISTANT]
        assert [h.thread_id for h in db.search("量子")] == [ids["chat"]]
        # every word must occur
        assert db.search("quantum qubits") == []
        assert len(db.search("is quantum")) == 1
        # FTS operators in user text are searched for, never interpreted
        assert [h.thread_id for h in db.search('NEAR "quotes"')] == [ids["deep"]]
        assert db.search("quantum", workflow="thinkdeep") == []
        assert db.search("quantum", workflow="no-such-workflow") == []
        assert len(db.search("quantum", workflow="chat")) == 1
        # newest first, and limit applies
        both = db.search("qu*", limit=10)  # quantum, qubits, quotes
        assert len(both) == 3
        assert [h.message_id for h in both] == sorted((h.message_id for h in both), reverse=True)
        assert len(db.search("qu*", limit=1)) == 1
        # FTS matches whole words (prefixes on request); LIKE matches substrings
        assert len(db.search("quant")) == (0 if fts else 1)
        assert len(db.search("quant*")) == 1
        # text FTS cannot index still finds something
        assert [h.thread_id for h in db.search(";")] == [ids["deep"]]
        assert [h.thread_id for h in db.search("%_")] == [ids["deep"]]  # LIKE wildcards escaped
        # FTS folds accents ("Ünïcode"); LIKE compares the text as it is
        assert [h.thread_id for h in db.search("unicode")] == ([ids["chat"]] if fts else [])
        with pytest.raises(InputError):
            db.search("   ")


def test_fts_stays_in_sync_on_delete_and_update(db: ConversationDatabase) -> None:
    thread = db.create_thread("chat")
    stored = db.add_message(thread.id, user("original words"))
    with db._write("test") as conn:
        conn.execute("UPDATE messages SET content = 'replacement' WHERE id = ?", (stored.id,))
    assert db.search("original") == []
    assert len(db.search("replacement")) == 1
    db.delete_thread(thread.id)
    assert db.search("replacement") == []
    check = db._conn.execute("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')")
    assert check is not None  # raises on an out-of-sync index


# -- stats and export -------------------------------------------------------------------


def test_stats(db: ConversationDatabase) -> None:
    empty = db.stats()
    assert (empty["threads"], empty["messages"], empty["oldest_thread"]) == (0, 0, None)
    _search_corpus(db)
    db.record_call(Attempt("claude", None, "ok", 0.1), correlation_id="c")
    stats = db.stats()
    assert stats["threads"] == 2 and stats["messages"] == 3
    assert stats["by_workflow"] == {"chat": 1, "thinkdeep": 1}
    assert stats["call_records"] == 1
    assert stats["schema_version"] == schema.SCHEMA_VERSION
    assert stats["size_bytes"] > 0
    assert stats["path"] == str(db.path)
    assert stats["oldest_thread"] <= stats["newest_activity"]


def test_export_json_and_markdown(db: ConversationDatabase) -> None:
    thread = db.create_thread("thinkdeep", title="Login failures")
    db.add_messages(
        thread.id,
        [user("Why? ✓", files=["a.py"]), assistant("Clock skew", provider="claude", model="x")],
    )
    db.save_turn(thread, [], state_key="thinkdeep", state={"hypotheses": [{"hypothesis": "skew"}]})
    data = json.loads(db.export_thread(thread.id[:8], "json"))
    assert data["id"] == thread.id and data["workflow"] == "thinkdeep"
    assert [m["content"] for m in data["messages"]] == ["Why? ✓", "Clock skew"]
    assert data["messages"][0]["files"] == ["a.py"]
    assert data["state"] == {"thinkdeep": {"hypotheses": [{"hypothesis": "skew"}]}}
    md = db.export_thread(thread.id, "md")
    assert md.startswith("# Login failures\n")
    assert thread.id in md
    assert md.index("Why? ✓") < md.index("Clock skew")
    assert "(claude · x)" in md and "`a.py`" in md and '"hypothesis": "skew"' in md
    with pytest.raises(InputError):
        db.export_thread(thread.id, "pdf")  # type: ignore[arg-type]


# -- workflow state ---------------------------------------------------------------------


def test_state_versions(db: ConversationDatabase) -> None:
    thread = db.create_thread("ideate")
    assert db.get_state(thread.id, "clusters") is None
    assert db.get_state_and_version(thread.id, "clusters") == (None, 0)

    def put(key: str, value: dict[str, Any]) -> int:
        return db.save_turn(thread, [], state_key=key, state=value).state_version

    assert put("clusters", {"n": 1}) == 1
    assert put("clusters", {"n": 2, "ü": "量"}) == 2
    assert put("other", {}) == 1
    assert db.get_state(thread.id, "clusters") == {"n": 2, "ü": "量"}
    assert db.get_state_and_version(thread.id, "clusters") == ({"n": 2, "ü": "量"}, 2)
    assert db.get_all_state(thread.id) == {"clusters": {"n": 2, "ü": "量"}, "other": {}}


# -- call records -----------------------------------------------------------------------


def test_call_records(db: ConversationDatabase) -> None:
    t0 = datetime(2025, 3, 1, tzinfo=UTC)
    db.record_call(
        Attempt("claude", "sonnet", "ok", 1.25, usage=TokenUsage(100, 20)),
        correlation_id="run-1",
        thread_id="t-1",
        workflow="chat",
        created_at=t0,
    )
    db.record_call(
        Attempt("gemini", None, "rate_limited", 0.5, error_message="429"),
        correlation_id="run-2",
        created_at=t0 + timedelta(hours=1),
    )
    records = db.call_records()
    assert [r.provider for r in records] == ["claude", "gemini"]
    first = records[0]
    assert (first.model, first.outcome, first.latency_s) == ("sonnet", "ok", 1.25)
    assert (first.input_tokens, first.output_tokens) == (100, 20)
    assert (first.correlation_id, first.thread_id, first.workflow) == ("run-1", "t-1", "chat")
    assert first.created_at == t0 and first.ok
    assert (records[1].error_message, records[1].ok) == ("429", False)
    assert [r.provider for r in db.call_records(since=t0 + timedelta(minutes=1))] == ["gemini"]


# -- breaker and cache ------------------------------------------------------------------


def test_breaker_state(db: ConversationDatabase) -> None:
    assert db.get_breaker("claude") is None
    db.set_breaker("claude", {"state": "open", "failures": 3})
    assert db.get_breaker("claude") == {"state": "open", "failures": 3}
    seen = []

    def bump(state):
        seen.append(state)
        return {"state": "closed", "failures": (state or {}).get("failures", 0) + 1}

    assert db.update_breaker("claude", bump) == {"state": "closed", "failures": 4}
    assert db.update_breaker("gemini", bump) == {"state": "closed", "failures": 1}
    assert seen == [{"state": "open", "failures": 3}, None]
    assert db.get_breaker("claude") == {"state": "closed", "failures": 4}


def test_update_breaker_rolls_back_when_fn_raises(db: ConversationDatabase) -> None:
    db.set_breaker("claude", {"failures": 1})

    def boom(state):
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        db.update_breaker("claude", boom)
    assert db.get_breaker("claude") == {"failures": 1}
    assert not db._conn.in_transaction
    db.set_breaker("claude", {"failures": 2})  # the connection is usable afterwards
    assert db.get_breaker("claude") == {"failures": 2}


def test_cache(db: ConversationDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    clock = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    assert db.cache_get("k") is None
    db.cache_put("k", "value ✓", ttl_s=60)
    assert db.cache_get("k") == "value ✓"
    clock[0] += 61
    assert db.cache_get("k") is None  # expired
    db.cache_put("k", "again", ttl_s=10)
    assert db.cache_get("k") == "again"
    # a put drops expired rows
    db.cache_put("short", "x", ttl_s=1)
    clock[0] += 5
    db.cache_put("other", "y", ttl_s=10)
    rows = {r[0] for r in db._conn.execute("SELECT key FROM response_cache")}
    assert rows == {"k", "other"}


# -- transactions -----------------------------------------------------------------------


def test_reads_do_not_take_the_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "chorus.db"
    with ConversationDatabase(path) as db:
        thread = db.create_thread("chat")
        db.add_message(thread.id, user("hello"))
        other = sqlite3.connect(path, isolation_level=None, timeout=0)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            assert db.get_thread(thread.id).messages[0].content == "hello"
            assert db.list_threads()[0].id == thread.id
            assert len(db.search("hello")) == 1
            db.stats()
        finally:
            other.execute("ROLLBACK")
            other.close()


def test_write_lock_timeout_is_a_store_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "chorus.db"
    with ConversationDatabase(path) as db:
        thread = db.create_thread("chat")
        db._conn.execute("PRAGMA busy_timeout = 50")
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreError) as info:
                db.add_message(thread.id, user("x"))
            assert info.value.hint and "busy" in info.value.hint
        finally:
            other.execute("ROLLBACK")
            other.close()
        db.add_message(thread.id, user("after"))
        assert [m.content for m in db.get_messages(thread.id)] == ["after"]


def test_last_names_the_newest_thread_overall_or_of_a_workflow(db: ConversationDatabase) -> None:
    chat = db.create_thread("chat", title="old chat")
    deep = db.create_thread("thinkdeep", title="investigation")
    db.add_message(chat.id, user("touch the chat so it is the newest"))

    assert db.resolve_thread_id("last") == chat.id
    assert db.resolve_thread_id("last", workflow="thinkdeep") == deep.id
    assert db.get_thread("last", workflow="thinkdeep").title == "investigation"
    with pytest.raises(ThreadNotFoundError, match="no ideate thread yet"):
        db.resolve_thread_id("last", workflow="ideate")


def test_last_in_an_empty_database_is_not_found(db: ConversationDatabase) -> None:
    with pytest.raises(ThreadNotFoundError):
        db.get_thread("last")


def test_an_upper_case_id_or_prefix_finds_the_thread(db: ConversationDatabase) -> None:
    thread = db.create_thread("chat")

    assert db.resolve_thread_id(thread.id.upper()) == thread.id
    assert db.resolve_thread_id(thread.id[:8].upper()) == thread.id
