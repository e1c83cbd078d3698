"""build_conversation_history: token budgets, both strategies, and order preservation."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model_chorus.context.history import (
    MESSAGE_OVERHEAD_TOKENS,
    RECENT_MESSAGES,
    TRUNCATION_MARKER,
    ConversationHistory,
    build_conversation_history,
    importance,
    message_tokens,
    select_history,
)
from model_chorus.context.tokens import count_tokens
from model_chorus.errors import InputError, ThreadNotFoundError
from model_chorus.models import Message, Role
from model_chorus.store.database import ConversationDatabase


def msg(role: Role, text: str, seq: int, files: list[str] | None = None) -> Message:
    return Message(role=role, content=text, seq=seq, files=files or [])


def conversation(sizes: list[int]) -> list[Message]:
    """Alternating user/assistant turns whose text is ``size`` distinct words each."""
    messages = []
    for i, size in enumerate(sizes):
        role = Role.USER if i % 2 == 0 else Role.ASSISTANT
        messages.append(msg(role, " ".join(f"m{i}w{j}" for j in range(size)), seq=i + 1))
    return messages


def seqs(history: ConversationHistory) -> list[int]:
    return [m.seq or 0 for m in history.messages]


def total(messages: list[Message]) -> int:
    return sum(message_tokens(m) for m in messages)


@pytest.fixture
def db(tmp_path: Path):
    database = ConversationDatabase(tmp_path / "chorus.db")
    yield database
    database.close()


def test_message_cost_includes_overhead() -> None:
    m = msg(Role.USER, "hello world", 1)
    assert message_tokens(m) == count_tokens("hello world") + MESSAGE_OVERHEAD_TOKENS


@pytest.mark.parametrize("strategy", ["truncate", "smart"])
def test_everything_fits(strategy) -> None:
    messages = conversation([5, 5, 5])
    history = select_history(messages, total(messages), strategy)
    assert history.messages == messages
    assert (history.token_count, history.omitted, history.truncated) == (total(messages), 0, 0)


def test_truncate_keeps_newest_suffix() -> None:
    messages = conversation([10, 10, 10, 10, 10])
    budget = total(messages[-3:]) + 1
    history = select_history(messages, budget, "truncate")
    assert seqs(history) == [3, 4, 5]
    assert history.omitted == 2
    assert history.token_count == total(messages[-3:])


def test_truncate_stops_at_first_message_that_does_not_fit() -> None:
    # A small old message must not sneak in past a big one: truncate drops the oldest.
    messages = conversation([1, 200, 5])
    budget = total([messages[0], messages[2]])
    history = select_history(messages, budget, "truncate")
    assert seqs(history) == [3]


def test_smart_keeps_first_user_turn_and_newest() -> None:
    messages = conversation([20, 20, 20, 20, 20, 20, 20, 20, 20, 20])
    keep = [messages[0], *messages[-RECENT_MESSAGES:]]
    history = select_history(messages, total(keep), "smart")
    assert seqs(history) == [1, 7, 8, 9, 10]
    assert history.omitted == 5
    truncated = select_history(messages, total(keep), "truncate")
    assert 1 not in seqs(truncated)


def test_smart_fills_by_importance() -> None:
    # first user turn + 4 newest, then room for exactly one of the middle messages
    messages = [
        msg(Role.USER, "task " * 10, 1),
        msg(Role.ASSISTANT, "short " * 10, 2),
        msg(Role.USER, "with a file " * 3, 3, files=["a.py"]),
        msg(Role.ASSISTANT, "plain " * 10, 4),
        *conversation([10, 10, 10, 10])[:4],
    ]
    for i, m in enumerate(messages):
        m.seq = i + 1
    fixed = [messages[0], *messages[-4:]]
    budget = total(fixed) + message_tokens(messages[2])
    history = select_history(messages, budget, "smart")
    assert 3 in seqs(history)  # the user turn with a file beats the assistant messages
    assert seqs(history) == sorted(seqs(history))


def test_importance_score() -> None:
    user = msg(Role.USER, "x", 1)
    with_file = msg(Role.USER, "x", 1, files=["a.py"])
    short_answer = msg(Role.ASSISTANT, "x", 1)
    assert importance(with_file, 1) > importance(user, 1) > importance(short_answer, 10)
    assert importance(short_answer, 900) > importance(short_answer, 100)
    assert importance(short_answer, 5000) == importance(short_answer, 1000)


@pytest.mark.parametrize("strategy", ["truncate", "smart"])
def test_single_message_bigger_than_budget_is_cut_with_marker(strategy) -> None:
    messages = [msg(Role.USER, "small question", 1), msg(Role.ASSISTANT, "word " * 5000, 2)]
    history = select_history(messages, 200, strategy)
    assert history.messages, "a cut message beats an empty history"
    newest = history.messages[-1]
    assert newest.seq == 2
    assert newest.content.endswith(TRUNCATION_MARKER)
    assert newest.content.startswith("word word")
    assert history.truncated == 1
    assert history.token_count <= 200
    assert history.token_count == total(history.messages)


def test_zero_or_tiny_budget_gives_empty_history() -> None:
    messages = conversation([50, 50])
    for budget in (-5, 0, 3):
        history = select_history(messages, budget, "smart")
        assert (history.messages, history.token_count, history.omitted) == ([], 0, 2)


def test_unknown_strategy() -> None:
    with pytest.raises(InputError):
        select_history([], 10, "random")  # type: ignore[arg-type]


def test_build_from_store(db: ConversationDatabase) -> None:
    thread = db.create_thread("chat")
    db.add_messages(thread.id, conversation([30] * 8))
    stored = db.get_messages(thread.id)
    history = build_conversation_history(db, thread.id, total(stored[-2:]), "truncate")
    assert [m.id for m in history.messages] == [m.id for m in stored[-2:]]
    assert history.omitted == 6
    full = build_conversation_history(db, thread.id, 10**6)
    assert full.messages == stored and full.omitted == 0
    with pytest.raises(ThreadNotFoundError):
        build_conversation_history(db, "missing", 100)


def test_empty_thread(db: ConversationDatabase) -> None:
    thread = db.create_thread("chat")
    history = build_conversation_history(db, thread.id, 100)
    assert (history.messages, history.token_count, history.omitted) == ([], 0, 0)


# -- properties -------------------------------------------------------------------------

_messages = st.lists(
    st.tuples(
        st.sampled_from([Role.USER, Role.ASSISTANT]),
        st.text(alphabet=st.sampled_from(list("abc xyz.,\n量子é✓")), min_size=1, max_size=300),
        st.booleans(),
    ),
    max_size=25,
)


def _build(raw) -> list[Message]:
    return [
        msg(role, text, i + 1, files=["f.py"] if has_file else None)
        for i, (role, text, has_file) in enumerate(raw)
    ]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=_messages, budget=st.integers(min_value=-10, max_value=1500))
@pytest.mark.parametrize("strategy", ["truncate", "smart"])
def test_property_order_budget_and_accounting(strategy, raw, budget) -> None:
    messages = _build(raw)
    history = select_history(messages, budget, strategy)
    kept = seqs(history)
    # never reorders, never duplicates
    assert kept == sorted(set(kept))
    # never exceeds the budget, and the count is honest
    assert history.token_count <= max(budget, 0)
    assert history.token_count == total(history.messages)
    assert history.omitted == len(messages) - len(history.messages)
    # messages are the originals, except a cut one (marked)
    originals = {m.seq: m for m in messages}
    cut = [m for m in history.messages if m.content != originals[m.seq].content]
    assert len(cut) == history.truncated
    for m in cut:
        assert m.content.endswith(TRUNCATION_MARKER)
    # everything kept when everything fits
    if total(messages) <= budget:
        assert history.messages == messages
    # the newest message is always there, whole or cut, when there is a little room
    if messages and budget >= 200:
        assert kept[-1] == len(messages)
    if strategy == "truncate":
        assert kept == list(range(len(messages) - len(kept) + 1, len(messages) + 1))
    else:
        first_user = next((m for m in messages if m.role == Role.USER), None)
        newest = messages[-1] if messages else None
        if (
            first_user is not None
            and newest is not None
            and message_tokens(first_user) + message_tokens(newest) <= budget
        ):
            assert first_user.seq in kept
