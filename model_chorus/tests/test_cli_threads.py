"""``threads``, ``migrate-json`` and ``stats`` end to end over a real database."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from model_chorus.cli.app import app
from model_chorus.models import Attempt, Message, Role, TokenUsage, utcnow
from model_chorus.paths import default_database_path
from model_chorus.store.database import ConversationDatabase

LEGACY = Path(__file__).parent / "data" / "legacy"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def as_json(*args: str) -> dict[str, Any]:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


@pytest.fixture
def db() -> ConversationDatabase:
    return ConversationDatabase(default_database_path())


@pytest.fixture
def two_threads(db: ConversationDatabase) -> tuple[str, str]:
    long_ago = utcnow() - timedelta(days=40)
    old = db.create_thread(
        "chat", title="About checkpoints", created_at=long_ago, updated_at=long_ago
    )
    db.add_message(old.id, Message(Role.USER, "When do checkpoints run?", created_at=long_ago))
    new = db.create_thread("consensus", title="NFS and WAL")
    db.add_messages(
        new.id,
        [
            Message(Role.USER, "Is WAL safe on NFS?"),
            Message(Role.ASSISTANT, "No: the shared-memory index needs one host.", "claude"),
        ],
    )
    return old.id, new.id


def test_list_newest_first_and_by_workflow(two_threads: tuple[str, str]) -> None:
    old, new = two_threads

    assert [t["id"] for t in as_json("threads", "list")["threads"]] == [new, old]
    only = as_json("threads", "list", "--workflow", "chat")["threads"]
    assert [(t["id"], t["message_count"]) for t in only] == [(old, 1)]
    console = invoke("threads", "list")
    assert new[:8] in console.stdout and "NFS and WAL" in console.stdout


def test_show_by_prefix_and_last(two_threads: tuple[str, str]) -> None:
    _, new = two_threads

    shown = as_json("threads", "show", new[:6])["thread"]
    last = as_json("threads", "show", "last")["thread"]

    assert shown["id"] == last["id"] == new
    assert [m["content"] for m in shown["messages"]] == [
        "Is WAL safe on NFS?",
        "No: the shared-memory index needs one host.",
    ]


def test_search_finds_message_text(two_threads: tuple[str, str]) -> None:
    _, new = two_threads

    hits = as_json("threads", "search", "shared-memory")["hits"]

    assert [h["thread_id"] for h in hits] == [new]
    assert "No messages match" in invoke("threads", "search", "zeppelin").stdout
    assert two_threads[0][:8] in invoke("threads", "search", "checkpoints").stdout


def test_export_markdown_and_json(two_threads: tuple[str, str], tmp_path: Path) -> None:
    _, new = two_threads

    markdown = invoke("threads", "export", new[:8], "--format", "md")
    target = tmp_path / "out" / "thread.json"
    to_file = invoke("threads", "export", new[:8], "--format", "json", "-o", str(target))

    assert markdown.exit_code == 0 and "Is WAL safe on NFS?" in markdown.stdout
    assert to_file.exit_code == 0
    assert json.loads(target.read_text(encoding="utf-8"))["id"] == new


def test_delete_needs_confirmation_off_a_terminal(
    two_threads: tuple[str, str], db: ConversationDatabase
) -> None:
    old, new = two_threads

    refused = invoke("threads", "delete", new[:8])
    deleted = invoke("threads", "delete", new[:8], "--yes")

    assert refused.exit_code == 2 and "--yes" in refused.stderr
    assert deleted.exit_code == 0
    assert [t.id for t in db.list_threads()] == [old]


def test_prune_dry_run_then_for_real(
    two_threads: tuple[str, str], db: ConversationDatabase
) -> None:
    old, new = two_threads

    dry = as_json("threads", "prune", "--older-than", "30d", "--dry-run")
    assert dry["threads"] == [old] and dry["dry_run"] is True
    assert {t.id for t in db.list_threads()} == {old, new}

    done = as_json("threads", "prune", "--older-than", "30d", "--yes")
    assert done["threads"] == [old]
    assert [t.id for t in db.list_threads()] == [new]


def test_prune_rejects_a_bad_duration(two_threads: tuple[str, str]) -> None:
    result = invoke("threads", "prune", "--older-than", "a month")

    assert result.exit_code == 2
    assert "30d" in result.stderr


def test_unknown_thread_is_exit_2(two_threads: tuple[str, str]) -> None:
    for args in (("show", "ffffffff"), ("export", "ffffffff"), ("delete", "ffffffff", "--yes")):
        result = invoke("threads", *args)
        assert result.exit_code == 2, args
        assert "No thread" in result.stderr


def test_threads_stats(two_threads: tuple[str, str]) -> None:
    stats = as_json("threads", "stats")["stats"]

    assert stats["threads"] == 2 and stats["messages"] == 3
    assert stats["by_workflow"] == {"chat": 1, "consensus": 1}


# -- migrate-json ---------------------------------------------------------------------


def test_migrate_json_dry_run_writes_nothing_then_imports_once(tmp_path: Path) -> None:
    source = tmp_path / "conversations"
    shutil.copytree(LEGACY, source)
    before = {p.name: p.read_bytes() for p in source.iterdir()}

    dry = as_json("migrate-json", str(source), "--dry-run")["migration"]
    assert dry["found"] == 5 and len(dry["imported"]) == 5
    assert not default_database_path().exists()

    first = as_json("migrate-json", str(source))["migration"]
    second = as_json("migrate-json", str(source))["migration"]

    assert len(first["imported"]) == 5 and first["failed"] == []
    assert second["imported"] == [] and len(second["skipped"]) == 5
    assert {p.name: p.read_bytes() for p in source.iterdir()} == before
    listed = as_json("threads", "list", "--limit", "10")["threads"]
    assert {t["workflow"] for t in listed} == {"chat", "argument", "thinkdeep"}


def test_migrate_json_reports_a_corrupt_file_and_exits_1(tmp_path: Path) -> None:
    source = tmp_path / "conversations"
    shutil.copytree(LEGACY, source)
    (source / "0badf11e-0000-4000-8000-000000000000.json").write_text('{"thread_id": ', "utf-8")

    result = invoke("migrate-json", str(source), "--json")

    assert result.exit_code == 1
    report = json.loads(result.stdout)["migration"]
    assert len(report["imported"]) == 5
    [failure] = report["failed"]
    assert failure["path"].endswith("0badf11e-0000-4000-8000-000000000000.json")


def test_migrate_json_missing_folder_is_exit_2(tmp_path: Path) -> None:
    result = invoke("migrate-json", str(tmp_path / "nowhere"))

    assert result.exit_code == 2
    assert "nowhere" in result.stderr


# -- stats ----------------------------------------------------------------------------


def test_stats_summarises_call_records(db: ConversationDatabase) -> None:
    for outcome, latency in (("ok", 1.0), ("ok", 3.0), ("rate_limited", 0.5)):
        db.record_call(
            Attempt("gemini", "gemini-2.5-pro", outcome, latency, usage=TokenUsage(10, 5)),
            correlation_id="run-1",
        )
    db.record_call(
        Attempt("claude", None, "ok", 2.0),
        correlation_id="old",
        created_at=utcnow() - timedelta(days=30),
    )

    recent = as_json("stats", "--since", "7d")
    everything = as_json("stats")

    [gemini] = recent["providers"]
    assert gemini["provider"] == "gemini" and gemini["calls"] == 3
    assert gemini["failures_by_kind"] == {"rate_limited": 1}
    assert gemini["latency_p50_ms"] == pytest.approx(2000, rel=0.01)
    assert {p["provider"] for p in everything["providers"]} == {"claude", "gemini"}
    assert invoke("stats", "--since", "whenever").exit_code == 2


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["threads", "list"], 0),
        (["threads", "search", "wal"], 0),
        (["threads", "stats"], 0),
        (["threads", "prune", "--older-than", "30d", "--dry-run"], 0),
        (["stats"], 0),
        (["threads", "show", "last"], 2),
        (["threads", "export", "abcd1234"], 2),
        (["thinkdeep-status", "last"], 2),
    ],
)
def test_reading_commands_never_create_the_database(args: list[str], code: int) -> None:
    result = invoke(*args)

    assert result.exit_code == code, result.output
    assert not default_database_path().exists()


def test_show_piped_prints_the_thread_as_markdown_text(db: ConversationDatabase) -> None:
    thread = db.create_thread("chat", title="Lines")
    db.add_message(
        thread.id, Message(Role.ASSISTANT, "line1\nline2\n    indented\n# not a heading")
    )

    shown = invoke("threads", "show", thread.id[:8])

    assert shown.exit_code == 0
    assert "line1\nline2\n    indented\n# not a heading" in shown.stdout


def test_search_shows_emoji_codes_as_typed(db: ConversationDatabase) -> None:
    thread = db.create_thread("chat", title="tags")
    db.add_message(thread.id, Message(Role.USER, "tag it with :smile: please"))

    found = invoke("threads", "search", "tag")

    assert ":smile:" in found.stdout
