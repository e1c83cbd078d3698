"""Several processes on one database: nothing lost, no "database is locked", crash-safe."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from model_chorus.errors import InputError, StateConflictError
from model_chorus.models import Message, Role
from model_chorus.store.database import ConversationDatabase

WRITERS = 8
PER_WRITER = 100
#: Messages per transaction in the crash test; a torn transaction would break the multiple.
BATCH = 3


def _writer(path: str, shared_id: str | None, writer: int, start: Any, out: Any) -> None:
    """Child process: alternate between the shared thread and a thread of its own."""
    try:
        start.wait()  # everyone opens at once: on a fresh file, all race to create the schema
        db = ConversationDatabase(path)
        if shared_id is None:  # fresh-file race: the first writer's thread is everyone's
            shared_id = "shared-thread"
            with contextlib.suppress(InputError):  # another writer created it first
                db.create_thread("chat", thread_id=shared_id)
        own = db.create_thread("chat", title=f"writer {writer}")
        for i in range(PER_WRITER):
            target = shared_id if i % 2 == 0 else own.id
            db.add_message(
                target,
                Message(Role.USER, f"w{writer} m{i}", metadata={"writer": writer, "i": i}),
            )
        db.close()
        out.put((writer, own.id, None))
    except BaseException as exc:
        out.put((writer, None, repr(exc)))


def _run_writers(path: Path, shared_id: str | None) -> dict[int, str]:
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(WRITERS)
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_writer, args=(str(path), shared_id, w, start, out))
        for w in range(WRITERS)
    ]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=90) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
        assert proc.exitcode == 0
    errors = [error for _, _, error in results if error]
    assert errors == []  # in particular no "database is locked"
    return {writer: own for writer, own, _ in results}


def _check_writes(db: ConversationDatabase, shared_id: str, own_ids: dict[int, str]) -> None:
    shared = db.get_messages(shared_id)
    assert len(shared) == WRITERS * PER_WRITER // 2
    assert [m.seq for m in shared] == list(range(1, len(shared) + 1))
    for writer, own_id in own_ids.items():
        own = db.get_messages(own_id)
        assert [m.metadata["i"] for m in own] == list(range(1, PER_WRITER, 2))
        assert [m.seq for m in own] == list(range(1, len(own) + 1))
        # each writer's messages keep their order in the shared thread
        mine = [m.metadata["i"] for m in shared if m.metadata["writer"] == writer]
        assert mine == list(range(0, PER_WRITER, 2))
    assert db.stats()["messages"] == WRITERS * PER_WRITER
    assert len(db.search("m42")) == WRITERS  # the FTS index kept up too


def test_eight_processes_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "chorus.db"
    with ConversationDatabase(path) as db:
        shared_id = db.create_thread("chat", title="shared").id
    own_ids = _run_writers(path, shared_id)
    with ConversationDatabase(path) as db:
        _check_writes(db, shared_id, own_ids)


def test_eight_processes_racing_to_create_the_file(tmp_path: Path) -> None:
    path = tmp_path / "new" / "chorus.db"
    own_ids = _run_writers(path, None)
    with ConversationDatabase(path) as db:
        _check_writes(db, "shared-thread", own_ids)
        assert db._conn.execute("PRAGMA user_version").fetchone()[0] == db.schema_version


def _write_until_killed(path: str, thread_id: str) -> None:
    """Child process: commit batches forever, reporting each committed batch's last seq."""
    db = ConversationDatabase(path)
    n = 0
    while True:
        batch = [Message(Role.ASSISTANT, f"answer {n + k} " + "x" * 500) for k in range(BATCH)]
        stored = db.add_messages(thread_id, batch)
        n += BATCH
        sys.stdout.write(f"{stored[-1].seq}\n")
        sys.stdout.flush()


def test_sigkill_mid_write_keeps_every_committed_message(tmp_path: Path) -> None:
    path = tmp_path / "chorus.db"
    with ConversationDatabase(path) as db:
        thread_id = db.create_thread("chat").id
    code = (
        "import sys\n"
        "from model_chorus.tests.test_store_concurrency import _write_until_killed\n"
        "_write_until_killed(sys.argv[1], sys.argv[2])\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(path), thread_id],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    reported: list[int] = []
    try:
        while len(reported) < 200:
            line = child.stdout.readline()
            assert line, "the writer stopped before it was killed"
            reported.append(int(line))
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL

    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    raw.close()
    with ConversationDatabase(path) as db:
        seqs = [m.seq for m in db.get_messages(thread_id)]
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) >= reported[-1]  # every reported commit is there
    assert len(seqs) % BATCH == 0  # no transaction half-applied


#: Turns each process saves in the lost-update test.
TURNS = 25


def _appending(entry: str) -> Callable[[dict[str, Any] | None], dict[str, Any]]:
    def merge(current: dict[str, Any] | None) -> dict[str, Any]:
        return {"entries": [*(current or {}).get("entries", []), entry]}

    return merge


def _turn_taker(
    path: str, thread_id: str, writer: int, start: Any, out: Any, merging: bool
) -> None:
    """Child process: save turns like a workflow. Merging: append to the state as stored
    at save time. Checked: read state, think, save checked, retrying whenever another
    process saved first."""
    try:
        db = ConversationDatabase(path)
        start.wait()
        conflicts = 0
        for i in range(TURNS):
            entry = f"w{writer}-{i}"
            if merging:
                thread = db.get_thread(thread_id, with_messages=False)
                db.save_turn(
                    thread,
                    [Message(Role.USER, entry)],
                    state_key="log",
                    merge=_appending(entry),
                )
                continue
            while True:
                state, version = db.get_state_and_version(thread_id, "log")
                entries = [*(state or {}).get("entries", []), f"w{writer}-{i}"]
                thread = db.get_thread(thread_id, with_messages=False)
                try:
                    db.save_turn(
                        thread,
                        [Message(Role.USER, f"w{writer}-{i}")],
                        state_key="log",
                        state={"entries": entries},
                        expected_version=version,
                    )
                    break
                except StateConflictError:
                    conflicts += 1
        db.close()
        out.put((writer, conflicts, None))
    except BaseException as exc:
        out.put((writer, 0, repr(exc)))


@pytest.mark.parametrize("merging", [True, False], ids=["merged", "checked"])
def test_concurrent_turns_lose_no_state_update(tmp_path: Path, merging: bool) -> None:
    """Read-modify-write of one thread's state from several processes: merged at save
    time, or checked against the version read (each refused save writing nothing), every
    entry survives and the messages match."""
    path = tmp_path / "chorus.db"
    with ConversationDatabase(path) as db:
        thread_id = db.create_thread("consensus").id
    ctx = multiprocessing.get_context("spawn")
    writers = 4
    start = ctx.Barrier(writers)
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_turn_taker, args=(str(path), thread_id, w, start, out, merging))
        for w in range(writers)
    ]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=90) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
        assert proc.exitcode == 0
    assert [error for _, _, error in results if error] == []

    with ConversationDatabase(path) as db:
        state, version = db.get_state_and_version(thread_id, "log")
        messages = db.get_messages(thread_id)
    expected = {f"w{w}-{i}" for w in range(writers) for i in range(TURNS)}
    assert state is not None
    assert sorted(state["entries"]) == sorted(expected)  # none lost, none doubled
    assert version == writers * TURNS
    assert sorted(m.content for m in messages) == sorted(expected)
