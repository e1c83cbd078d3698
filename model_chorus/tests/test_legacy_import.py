"""Import of the earlier JSON store, built from real files written by that version."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from model_chorus.errors import InputError
from model_chorus.models import Role, ThreadStatus
from model_chorus.store.database import ConversationDatabase
from model_chorus.store.legacy import SOURCE, import_legacy

DATA = Path(__file__).parent / "data" / "legacy"
CHAT = "2f8ee143-3cc2-4684-9c13-17fc8e18ad2f"  # unicode, files, initial_context
CHILD = "59f06478-2191-43ee-91a5-942f715ee498"  # parent_thread_id = CHAT
THINKDEEP = "46188f4b-bf15-490a-b56d-5e810ce989eb"  # "ThinkDeep", state.thinkdeep
ARGUMENT = "2bbb2d72-781d-4ec9-91fb-e55ebb9d9dc2"  # six turns
CAPITAL_CHAT = "d5799910-cb3c-489d-ae24-3be6f75787b6"  # "Chat"
ALL = {CHAT, CHILD, THINKDEEP, ARGUMENT, CAPITAL_CHAT}


@pytest.fixture
def legacy_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "conversations"
    shutil.copytree(DATA, folder)
    for path in list(folder.glob("*.json")):  # the old store's lock files sit beside each
        (folder / f"{path.name}.lock").touch()
    (folder / "notes.txt").write_text("not a thread")
    return folder


@pytest.fixture
def db(tmp_path: Path):
    database = ConversationDatabase(tmp_path / "db" / "chorus.db")
    yield database
    database.close()


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def checksums(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def row_counts(db: ConversationDatabase) -> tuple[int, ...]:
    tables = ("threads", "messages", "thread_state")
    return tuple(db._conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)


def test_imports_real_files_keeping_ids_timestamps_and_content(
    db: ConversationDatabase, legacy_dir: Path
) -> None:
    before = checksums(legacy_dir)
    report = import_legacy(db, legacy_dir)
    assert report.found == 5  # lock files and notes.txt are not counted
    assert set(report.imported) == ALL
    assert report.skipped == [] and report.failed == [] and report.notes == []
    assert checksums(legacy_dir) == before  # sources untouched

    for thread_id in ALL:
        source = load(legacy_dir / f"{thread_id}.json")
        thread = db.get_thread(thread_id)
        assert thread.created_at == datetime.fromisoformat(source["created_at"])
        assert thread.updated_at == datetime.fromisoformat(source["last_updated_at"])
        assert thread.workflow == source["workflow_name"].lower()
        assert thread.status == ThreadStatus(source["status"])
        assert thread.metadata["source"] == SOURCE
        assert len(thread.messages) == len(source["messages"])
        for stored, original in zip(thread.messages, source["messages"], strict=True):
            assert stored.role == Role(original["role"])
            assert stored.content == original["content"]
            assert stored.created_at == datetime.fromisoformat(original["timestamp"])
            assert stored.provider == original["model_provider"]
            assert stored.model == original["model_name"]
            assert stored.files == (original["files"] or [])
            assert stored.metadata == original["metadata"]
        assert [m.seq for m in thread.messages] == list(range(1, len(thread.messages) + 1))


def test_details_of_real_files(db: ConversationDatabase, legacy_dir: Path) -> None:
    import_legacy(db, legacy_dir)
    chat = db.get_thread(CHAT)
    assert chat.messages[0].content == "What is quantum computing? Ünïcode: 量子"
    assert chat.messages[0].files == ["src/a.py"]
    assert chat.metadata["initial_context"] == {"prompt": "Héllo wörld — ünïcode ✓"}
    assert chat.metadata["branch_point"] is None and chat.metadata["sibling_threads"] == []
    assert chat.title == "What is quantum computing? Ünïcode: 量子"
    assert db.get_thread(CHILD).parent_id == CHAT
    assert db.get_thread(CHILD).messages[0].metadata == {"step": 1}
    assert db.get_thread(THINKDEEP).workflow == "thinkdeep"
    assert db.get_thread(CAPITAL_CHAT).workflow == "chat"
    state = db.get_state(THINKDEEP, "thinkdeep")
    assert state == load(legacy_dir / f"{THINKDEEP}.json")["state"]["thinkdeep"]
    assert state is not None and state["hypotheses"][0]["status"] == "validated"
    assert db.get_all_state(CHAT) == {}
    # imported text is searchable, and old timestamps never expire
    assert [h.thread_id for h in db.search("量子")] == [CHAT]
    assert len(db.list_threads(limit=100)) == 5


def test_second_run_adds_nothing(db: ConversationDatabase, legacy_dir: Path) -> None:
    import_legacy(db, legacy_dir)
    counts = row_counts(db)
    again = import_legacy(db, legacy_dir)
    assert again.imported == [] and again.failed == []
    assert set(again.skipped) == ALL
    assert row_counts(db) == counts
    assert db.get_thread(CHILD).parent_id == CHAT


def test_child_listed_before_its_parent(db: ConversationDatabase, tmp_path: Path) -> None:
    folder = tmp_path / "ordered"
    folder.mkdir()
    # "0-child.json" sorts before the parent's file, so the child is read first
    shutil.copy(DATA / f"{CHILD}.json", folder / "0-child.json")
    shutil.copy(DATA / f"{CHAT}.json", folder / f"{CHAT}.json")
    report = import_legacy(db, folder)
    assert report.imported == [CHILD, CHAT]
    assert report.notes == []
    assert db.get_thread(CHILD).parent_id == CHAT


def test_missing_parent_is_noted_and_link_dropped(
    db: ConversationDatabase, legacy_dir: Path
) -> None:
    (legacy_dir / f"{CHAT}.json").unlink()
    report = import_legacy(db, legacy_dir)
    assert CHILD in report.imported
    assert len(report.notes) == 1 and CHAT in report.notes[0] and "missing" in report.notes[0]
    child = db.get_thread(CHILD)
    assert child.parent_id is None
    assert child.metadata["legacy_parent_thread_id"] == CHAT


def test_parent_already_in_database_from_earlier_run(
    db: ConversationDatabase, legacy_dir: Path, tmp_path: Path
) -> None:
    only_parent = tmp_path / "first"
    only_parent.mkdir()
    shutil.copy(legacy_dir / f"{CHAT}.json", only_parent)
    import_legacy(db, only_parent)
    report = import_legacy(db, legacy_dir)
    assert CHAT in report.skipped and CHILD in report.imported
    assert db.get_thread(CHILD).parent_id == CHAT


def test_corrupt_and_truncated_files_fail_with_reasons(
    db: ConversationDatabase, legacy_dir: Path
) -> None:
    text = (legacy_dir / f"{ARGUMENT}.json").read_text(encoding="utf-8")
    (legacy_dir / f"{ARGUMENT}.json").write_text(text[: len(text) // 2], encoding="utf-8")
    (legacy_dir / "garbage.json").write_bytes(b"\x00\xff\xfe not json")
    (legacy_dir / "list.json").write_text("[1, 2, 3]")
    (legacy_dir / "empty.json").write_text("")
    bad_role = load(legacy_dir / f"{CAPITAL_CHAT}.json")
    bad_role["messages"][1]["role"] = "wizard"
    (legacy_dir / f"{CAPITAL_CHAT}.json").write_text(json.dumps(bad_role))
    report = import_legacy(db, legacy_dir)
    reasons = {f.path.name: f.reason for f in report.failed}
    assert set(reasons) == {
        f"{ARGUMENT}.json",
        "garbage.json",
        "list.json",
        "empty.json",
        f"{CAPITAL_CHAT}.json",
    }
    assert "truncated" in reasons[f"{ARGUMENT}.json"]
    assert "UTF-8" in reasons["garbage.json"]
    assert "conversation object" in reasons["list.json"]
    assert "empty" in reasons["empty.json"]
    assert "wizard" in reasons[f"{CAPITAL_CHAT}.json"]
    assert report.found == 8
    assert set(report.imported) == {CHAT, CHILD, THINKDEEP}
    # a failed file leaves nothing half-imported
    assert db.existing_thread_ids([ARGUMENT, CAPITAL_CHAT]) == set()
    assert json.dumps(report.to_dict())  # the CLI can print it as JSON


def test_failed_parent_unlinks_child(db: ConversationDatabase, legacy_dir: Path) -> None:
    (legacy_dir / f"{CHAT}.json").write_text('{"thread_id": "' + CHAT + '", "messages": [')
    report = import_legacy(db, legacy_dir)
    assert [f.path.name for f in report.failed] == [f"{CHAT}.json"]
    assert db.get_thread(CHILD).parent_id is None
    assert any(CHAT in note for note in report.notes)


def test_empty_message_list_is_a_thread_without_messages(
    db: ConversationDatabase, tmp_path: Path
) -> None:
    folder = tmp_path / "empty-messages"
    folder.mkdir()
    data = load(DATA / f"{CAPITAL_CHAT}.json")
    data["messages"] = []
    (folder / f"{CAPITAL_CHAT}.json").write_text(json.dumps(data))
    report = import_legacy(db, folder)
    assert report.imported == [CAPITAL_CHAT]
    thread = db.get_thread(CAPITAL_CHAT)
    assert thread.messages == [] and thread.title == ""
    assert thread.created_at == datetime.fromisoformat(data["created_at"])
    assert db.list_threads()[0].message_count == 0


def test_older_files_with_missing_fields(db: ConversationDatabase, tmp_path: Path) -> None:
    folder = tmp_path / "old"
    folder.mkdir()
    data = load(DATA / f"{CHILD}.json")
    for key in (
        "created_at",
        "last_updated_at",
        "status",
        "state",
        "initial_context",
        "branch_point",
        "sibling_threads",
        "parent_thread_id",
        "workflow_name",
        "thread_id",
    ):
        data.pop(key)
    for message in data["messages"]:
        for key in ("files", "model_provider", "model_name", "metadata", "workflow_name"):
            message.pop(key)
    (folder / f"{CHILD}.json").write_text(json.dumps(data))
    report = import_legacy(db, folder)
    assert report.imported == [CHILD]  # the id comes from the file name
    thread = db.get_thread(CHILD)
    assert thread.workflow == "unknown"
    assert thread.status == ThreadStatus.ACTIVE
    first, last = data["messages"][0]["timestamp"], data["messages"][-1]["timestamp"]
    assert thread.created_at == datetime.fromisoformat(first)
    assert thread.updated_at == datetime.fromisoformat(last)
    assert thread.messages[0].provider is None and thread.messages[0].files == []


def test_same_thread_in_two_files_is_imported_once(
    db: ConversationDatabase, legacy_dir: Path
) -> None:
    shutil.copy(legacy_dir / f"{CHAT}.json", legacy_dir / "copy-of-chat.json")
    report = import_legacy(db, legacy_dir)
    assert report.imported.count(CHAT) == 1
    assert report.skipped == [CHAT]
    assert len(db.get_thread(CHAT).messages) == 2


def test_dry_run_never_writes(tmp_path: Path, legacy_dir: Path) -> None:
    path = tmp_path / "db" / "chorus.db"
    with ConversationDatabase(path) as db:
        db.create_thread("chat", title="already here")
        db._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    files_before = {p.name: p.read_bytes() for p in path.parent.iterdir()}
    with ConversationDatabase(path) as db:
        statements: list[str] = []
        db._conn.set_trace_callback(statements.append)
        (legacy_dir / f"{CHAT}.json").unlink()  # so a parent note is predicted too
        report = import_legacy(db, legacy_dir, dry_run=True)
        db._conn.set_trace_callback(None)
        assert report.dry_run
        assert set(report.imported) == ALL - {CHAT}
        assert any(CHAT in note for note in report.notes)
        assert row_counts(db) == (1, 0, 0)
    writes = ("BEGIN IMMEDIATE", "INSERT", "UPDATE", "DELETE", "REPLACE")
    assert statements and not [s for s in statements if s.lstrip().upper().startswith(writes)]
    files_after = {p.name: p.read_bytes() for p in path.parent.iterdir()}
    assert files_after.keys() == files_before.keys()
    assert files_after[path.name] == files_before[path.name]


def test_dry_run_reports_what_a_real_run_does(db: ConversationDatabase, legacy_dir: Path) -> None:
    preview = import_legacy(db, legacy_dir, dry_run=True)
    real = import_legacy(db, legacy_dir)
    assert (sorted(preview.imported), preview.skipped, preview.notes) == (
        sorted(real.imported),
        real.skipped,
        real.notes,
    )


def test_missing_directory(db: ConversationDatabase, tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        import_legacy(db, tmp_path / "nowhere")
    assert "nowhere" in info.value.message and info.value.hint
