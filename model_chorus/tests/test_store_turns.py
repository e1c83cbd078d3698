"""save_turn: a workflow turn (new thread, messages, state) in one transaction, its state
merged onto what is stored at that moment (or checked against a version)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from model_chorus.errors import StateConflictError, StoreError, ThreadNotFoundError
from model_chorus.models import Message, Role, Thread, new_id
from model_chorus.store.database import ConversationDatabase, SavedTurn

KEY = "consensus"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[ConversationDatabase]:
    database = ConversationDatabase(tmp_path / "chorus.db")
    yield database
    database.close()


def turn(text: str = "question") -> list[Message]:
    return [Message(Role.USER, text), Message(Role.ASSISTANT, f"answer to {text}")]


def put_state(db: ConversationDatabase, thread_id: str, value: dict[str, Any]) -> None:
    """Another run's turn that only wrote state."""
    db.save_turn(Thread(id=thread_id, workflow="consensus"), [], state_key=KEY, state=value)


def snapshot(db: ConversationDatabase, thread_id: str) -> tuple[object, ...]:
    """Everything a turn could change about a thread."""
    thread = db.get_thread(thread_id)
    return (
        [(m.seq, m.content) for m in thread.messages],
        db.get_state_and_version(thread_id, KEY),
        thread.updated_at,
    )


def test_new_thread_messages_and_state_are_stored_together(db: ConversationDatabase) -> None:
    thread = Thread(id=new_id(), workflow="consensus", title="Q", metadata={"strategy": "x"})

    saved = db.save_turn(
        thread, turn(), create=True, state_key=KEY, state={"turns": [1]}, expected_version=0
    )

    assert isinstance(saved, SavedTurn)
    assert [(m.seq, m.thread_id) for m in saved.messages] == [(1, thread.id), (2, thread.id)]
    assert all(m.id is not None for m in saved.messages)
    assert saved.state_version == 1
    stored = db.get_thread(thread.id)
    assert (stored.workflow, stored.title, stored.metadata) == ("consensus", "Q", {"strategy": "x"})
    assert [m.content for m in stored.messages] == ["question", "answer to question"]
    assert db.get_state_and_version(thread.id, KEY) == ({"turns": [1]}, 1)


def test_continuing_appends_and_bumps_the_version(db: ConversationDatabase) -> None:
    thread = Thread(id=new_id(), workflow="consensus")
    db.save_turn(thread, turn("one"), create=True, state_key=KEY, state={"n": 1})

    saved = db.save_turn(thread, turn("two"), state_key=KEY, state={"n": 2}, expected_version=1)

    assert [m.seq for m in saved.messages] == [3, 4]
    assert saved.state_version == 2
    assert db.get_state_and_version(thread.id, KEY) == ({"n": 2}, 2)
    assert len(db.get_messages(thread.id)) == 4


def test_messages_only_turn_writes_no_state(db: ConversationDatabase) -> None:
    thread = Thread(id=new_id(), workflow="chat")
    saved = db.save_turn(thread, turn(), create=True)
    assert saved.state_version == 0
    assert db.get_all_state(thread.id) == {}
    assert len(db.get_messages(thread.id)) == 2


@pytest.mark.parametrize(("writes_before", "expected"), [(1, 0), (2, 1)])
def test_version_conflict_raises_and_writes_nothing(
    db: ConversationDatabase, writes_before: int, expected: int
) -> None:
    thread = db.create_thread("consensus")
    db.add_messages(thread.id, turn("earlier"))
    # Another process (its own connection) saved state after this run read version `expected`.
    with ConversationDatabase(db.path) as other:
        for n in range(writes_before):
            put_state(other, thread.id, {"by": "other", "n": n})
    before = snapshot(db, thread.id)

    with pytest.raises(StateConflictError) as caught:
        db.save_turn(
            thread, turn("mine"), state_key=KEY, state={"by": "me"}, expected_version=expected
        )

    error = caught.value
    assert isinstance(error, StoreError)
    assert (error.kind, error.exit_code) == ("state_conflict", 1)
    assert thread.id in error.message and "Another model-chorus run" in error.message
    assert "not saved" in error.message
    assert error.hint is not None and "Run the command again" in error.hint
    assert (error.thread_id, error.key) == (thread.id, KEY)
    assert snapshot(db, thread.id) == before
    assert db.get_state(thread.id, KEY) == {"by": "other", "n": writes_before - 1}


def test_conflict_on_a_thread_this_run_did_not_start(db: ConversationDatabase) -> None:
    """A run that read "no state yet" loses to a run that stored the first state."""
    thread = db.create_thread("ideate")
    put_state(db, thread.id, {"first": True})
    with pytest.raises(StateConflictError):
        db.save_turn(thread, turn(), state_key=KEY, state={}, expected_version=0)
    assert db.get_messages(thread.id) == []


def test_without_expected_version_the_state_is_replaced(db: ConversationDatabase) -> None:
    thread = db.create_thread("consensus")
    put_state(db, thread.id, {"n": 1})
    put_state(db, thread.id, {"n": 2})
    saved = db.save_turn(thread, turn(), state_key=KEY, state={"n": 3})
    assert saved.state_version == 3
    assert db.get_state(thread.id, KEY) == {"n": 3}


def test_a_failure_at_the_last_write_leaves_no_new_thread(db: ConversationDatabase) -> None:
    thread = Thread(id=new_id(), workflow="consensus")
    # The state is written last; a set cannot be stored as JSON.
    with pytest.raises(TypeError):
        db.save_turn(thread, turn(), create=True, state_key=KEY, state={"bad": {1, 2}})
    assert db.list_threads() == []
    assert db.stats()["messages"] == 0


def test_a_failure_inside_a_continued_turn_writes_nothing(db: ConversationDatabase) -> None:
    thread = db.create_thread("consensus")
    db.save_turn(thread, turn("one"), state_key=KEY, state={"n": 1}, expected_version=0)
    before = snapshot(db, thread.id)
    with pytest.raises(TypeError):
        db.save_turn(thread, turn("two"), state_key=KEY, state={"bad": {1}}, expected_version=1)
    assert snapshot(db, thread.id) == before


def test_a_deleted_thread_is_not_found(db: ConversationDatabase) -> None:
    thread = db.create_thread("chat")
    db.delete_thread(thread.id)
    with pytest.raises(ThreadNotFoundError):
        db.save_turn(thread, turn())
    assert db.stats()["messages"] == 0


def test_creating_a_thread_that_exists_is_a_store_error(db: ConversationDatabase) -> None:
    existing = db.create_thread("chat", title="kept")
    with pytest.raises(StoreError):
        db.save_turn(Thread(id=existing.id, workflow="chat", title="new"), turn(), create=True)
    assert db.get_thread(existing.id).title == "kept"
    assert db.get_messages(existing.id) == []


def test_state_and_version_are_read_together(db: ConversationDatabase) -> None:
    thread = db.create_thread("thinkdeep")
    assert db.get_state_and_version(thread.id, KEY) == (None, 0)
    put_state(db, thread.id, {"a": 1})
    put_state(db, thread.id, {"a": 2})
    assert db.get_state_and_version(thread.id, KEY) == ({"a": 2}, 2)


def test_state_needs_its_key(db: ConversationDatabase) -> None:
    thread = db.create_thread("chat")
    with pytest.raises(ValueError):
        db.save_turn(thread, turn(), state={"x": 1})
    with pytest.raises(ValueError):
        db.save_turn(thread, turn(), merge=lambda current: {})
    with pytest.raises(ValueError):
        db.save_turn(thread, turn(), state_key=KEY)
    with pytest.raises(ValueError):
        db.save_turn(thread, turn(), state_key=KEY, state={}, merge=lambda current: {})
    with pytest.raises(ValueError):
        db.save_turn(thread, turn(), expected_version=0)
    assert db.get_messages(thread.id) == []


# -- merging onto the state as stored -----------------------------------------------------


def append(entry: str) -> Any:
    """A merge appending ``entry`` to the stored list, as the workflows' merges do."""

    def merge(current: dict[str, Any] | None) -> dict[str, Any]:
        return {"entries": [*(current or {}).get("entries", []), entry]}

    return merge


def test_merge_sees_the_state_as_stored_at_save_time(db: ConversationDatabase) -> None:
    thread = Thread(id=new_id(), workflow="consensus")
    saved = db.save_turn(thread, turn("one"), create=True, state_key=KEY, merge=append("mine"))
    assert (saved.state, saved.state_version) == ({"entries": ["mine"]}, 1)
    # Another process saves a turn after this run read the state, before it saves.
    with ConversationDatabase(db.path) as other:
        other.save_turn(thread, turn("other"), state_key=KEY, merge=append("other"))

    saved = db.save_turn(thread, turn("two"), state_key=KEY, merge=append("mine again"))

    assert saved.state == {"entries": ["mine", "other", "mine again"]}
    assert db.get_state_and_version(thread.id, KEY) == (saved.state, 3)
    assert [m.content for m in db.get_messages(thread.id)][::2] == ["one", "other", "two"]


def test_merge_may_adjust_the_messages_before_they_are_stored(db: ConversationDatabase) -> None:
    thread = db.create_thread("thinkdeep")
    put_state(db, thread.id, {"steps": 4})
    messages = turn("step")

    def merge(current: dict[str, Any] | None) -> dict[str, Any]:
        steps = int((current or {}).get("steps", 0)) + 1
        messages[1].metadata["step_number"] = steps
        return {"steps": steps}

    saved = db.save_turn(thread, messages, state_key=KEY, merge=merge)

    assert saved.messages[1].metadata == {"step_number": 5}
    assert db.get_messages(thread.id)[1].metadata == {"step_number": 5}


def test_a_merge_that_raises_writes_nothing(db: ConversationDatabase) -> None:
    thread = db.create_thread("ideate")
    put_state(db, thread.id, {"n": 1})
    before = snapshot(db, thread.id)

    def impossible(current: dict[str, Any] | None) -> dict[str, Any]:
        raise StateConflictError(thread.id, KEY)

    with pytest.raises(StateConflictError):
        db.save_turn(thread, turn(), state_key=KEY, merge=impossible)
    assert snapshot(db, thread.id) == before
