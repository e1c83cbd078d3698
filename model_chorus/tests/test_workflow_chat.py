"""chat over in-process providers and a temporary store: the answer survives a failed save.

The providers answered and the tokens are spent, so when the turn cannot be
stored the workflow raises ``TurnNotSavedError`` carrying its result instead of
losing it. The CLI's own behaviour is covered in ``test_cli_chat.py``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from model_chorus.config import Settings
from model_chorus.errors import StoreError, ThreadNotFoundError, TurnNotSavedError
from model_chorus.providers.base import ModelProvider
from model_chorus.store import connection
from model_chorus.store.database import ConversationDatabase
from model_chorus.tests.middleware_doubles import ScriptedProvider, ok
from model_chorus.tests.other_run import Interfering, other_store
from model_chorus.tests.store_faults import disk_full_after
from model_chorus.workflows.base import WorkflowEnv, WorkflowRequest
from model_chorus.workflows.chat import ChatWorkflow


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ConversationDatabase]:
    # A short busy timeout, so that a held lock fails the save quickly.
    monkeypatch.setattr(connection, "BUSY_TIMEOUT_S", 0.2)
    db = ConversationDatabase(tmp_path / "chorus.db")
    yield db
    db.close()


def make(store: ConversationDatabase, provider: ModelProvider) -> ChatWorkflow:
    return ChatWorkflow(WorkflowEnv(store=store, providers=[provider], settings=Settings()))


async def test_a_database_locked_by_another_process_still_returns_the_answer(
    store: ConversationDatabase,
) -> None:
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock throughout
    try:
        with pytest.raises(TurnNotSavedError) as caught:
            await make(store, ScriptedProvider("claude", ok("WAL keeps readers apart."))).run(
                WorkflowRequest(prompt="Explain WAL")
            )
    finally:
        other.execute("ROLLBACK")
        other.close()

    error = caught.value
    assert (error.kind, error.exit_code, error.thread_stored) == ("not_saved", 1, False)
    assert isinstance(error.cause, StoreError) and "locked" in error.cause.message
    assert error.hint is not None and "busy" in error.hint
    assert "This chat answer was not saved (no thread was created for it)" in error.message
    assert error.result.content == "WAL keeps readers apart."
    assert error.result.primary is not None and error.result.primary.provider == "claude"
    assert store.list_threads() == []


async def test_a_continued_turn_that_cannot_be_saved_leaves_the_thread_as_it_was(
    store: ConversationDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await make(store, ScriptedProvider("claude", ok("One."))).run(
        WorkflowRequest(prompt="First?")
    )
    disk_full_after(monkeypatch)

    with pytest.raises(TurnNotSavedError) as caught:
        await make(store, ScriptedProvider("claude", ok("Two."))).run(
            WorkflowRequest(prompt="Second?", thread_id=first.thread_id)
        )

    error = caught.value
    assert error.thread_stored and error.result.continued
    assert f"thread {first.thread_id} keeps its earlier turns" in error.message
    assert error.hint is not None and "disk space" in error.hint
    assert error.result.content == "Two."
    assert [m.content for m in store.get_messages(first.thread_id)] == ["First?", "One."]


async def test_a_thread_deleted_while_the_model_answers_still_returns_the_answer(
    store: ConversationDatabase,
) -> None:
    first = await make(store, ScriptedProvider("claude", ok("One."))).run(
        WorkflowRequest(prompt="First?")
    )

    def delete_it() -> None:
        with other_store(store.path) as other:
            other.delete_thread(first.thread_id)

    provider = Interfering(ScriptedProvider("claude", ok("Two.")), delete_it)
    with pytest.raises(TurnNotSavedError) as caught:
        await make(store, provider).run(
            WorkflowRequest(prompt="Second?", thread_id=first.thread_id)
        )

    error = caught.value
    assert isinstance(error.cause, ThreadNotFoundError)
    assert error.thread_stored is False and "was deleted meanwhile" in error.message
    assert error.result.content == "Two."
    assert store.list_threads() == []
