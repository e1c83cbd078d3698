"""argument workflow over in-process providers and a temporary store.

The tests check the debate's information flow: what each role was asked
(containing what the earlier roles actually said), what was parsed from the
replies, what was stored, and how a continued thread goes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from model_chorus.errors import (
    AllProvidersFailedError,
    InputError,
    ProviderAuthError,
    StoreError,
    TurnNotSavedError,
)
from model_chorus.events import EventKind, WorkflowEvent
from model_chorus.models import Attachment, Message, Role
from model_chorus.providers.base import ModelProvider
from model_chorus.store.database import ConversationDatabase
from model_chorus.tests.middleware_doubles import ScriptedProvider, fail, ok
from model_chorus.tests.other_run import Interfering, other_store
from model_chorus.tests.store_faults import disk_full_after
from model_chorus.tests.workflow_helpers import stored_state, workflow_env
from model_chorus.workflows.argument import (
    MAX_ROUNDS,
    ArgumentWorkflow,
    key_points,
    side_points,
)
from model_chorus.workflows.base import WorkflowRequest

TOPIC = "We should rewrite the billing service in Rust"


def make(
    store: ConversationDatabase,
    providers: Sequence[ModelProvider],
    *,
    roles: dict[str, ModelProvider] | None = None,
    events: list[WorkflowEvent] | None = None,
) -> ArgumentWorkflow:
    return ArgumentWorkflow(workflow_env(store, providers, roles=roles, events=events))


def ask(prompt: str = TOPIC, **options: Any) -> WorkflowRequest:
    return WorkflowRequest(prompt=prompt, options=options)


def reply(text: str, *points: str) -> str:
    return text + "\n\nKey points:\n" + "\n".join(f"- {p}" for p in points)


CREATOR_1 = reply("Rust removes GC pauses from invoicing.", "No GC pauses", "Memory safety")
SKEPTIC_1 = reply("GC pauses are 2 ms; the team knows no Rust.", "Pauses are tiny", "Skills gap")
CREATOR_2 = reply("Training takes a quarter; pauses spike to 300 ms.", "Spikes are real")
SKEPTIC_2 = reply("A quarter of no features is expensive.", "Opportunity cost")
MODERATOR = (
    "Both sides make fair points.\n\n"
    "Verdict: The skeptic is better supported for now.\n"
    "Recommendation: Profile the GC spikes before deciding."
)


async def test_one_round_each_role_sees_the_earlier_roles_actual_text(
    store: ConversationDatabase,
) -> None:
    creator = ScriptedProvider("claude", ok(CREATOR_1))
    skeptic = ScriptedProvider("gemini", ok(SKEPTIC_1))
    moderator = ScriptedProvider("codex", ok(MODERATOR))
    events: list[WorkflowEvent] = []

    result = await make(
        store,
        [creator],
        roles={"skeptic": skeptic, "moderator": moderator},
        events=events,
    ).run(ask())

    creator_prompt = creator.requests[0].prompt
    assert TOPIC in creator_prompt and "Argue FOR" in creator_prompt
    assert "Key points:" in creator_prompt
    skeptic_prompt = skeptic.requests[0].prompt
    assert "Argue AGAINST" in skeptic_prompt
    assert "Rust removes GC pauses from invoicing." in skeptic_prompt
    moderator_prompt = moderator.requests[0].prompt
    assert "Rust removes GC pauses from invoicing." in moderator_prompt
    assert "the team knows no Rust" in moderator_prompt
    assert "Verdict:" in moderator_prompt

    assert result.content == MODERATOR
    assert result.data["roles"] == {"creator": "claude", "skeptic": "gemini", "moderator": "codex"}
    assert result.data["rounds"][0]["creator"]["key_points"] == ["No GC pauses", "Memory safety"]
    assert result.data["rounds"][0]["skeptic"]["provider"] == "gemini"
    assert result.data["key_points"] == {
        "for": ["No GC pauses", "Memory safety"],
        "against": ["Pauses are tiny", "Skills gap"],
    }
    assert result.data["synthesis"]["verdict"] == "The skeptic is better supported for now."
    assert result.data["synthesis"]["recommendation"] == "Profile the GC spikes before deciding."
    assert result.primary is not None and result.primary.provider == "codex"
    assert result.warnings == []
    steps = [e.message for e in events if e.kind is EventKind.STEP]
    assert steps == ["round 1: creator (claude)", "round 1: skeptic (gemini)", "moderator (codex)"]


async def test_stored_messages_carry_role_and_round(store: ConversationDatabase) -> None:
    provider = ScriptedProvider("claude", ok(CREATOR_1), ok(SKEPTIC_1), ok(MODERATOR))

    result = await make(store, [provider]).run(ask())

    messages = store.get_messages(result.thread_id)
    assert [m.role for m in messages] == [Role.USER] + [Role.ASSISTANT] * 3
    assert messages[0].content == TOPIC
    assert [(m.metadata.get("role"), m.metadata.get("round")) for m in messages[1:]] == [
        ("creator", 1),
        ("skeptic", 1),
        ("moderator", 1),
    ]
    assert messages[3].metadata["verdict"] == "The skeptic is better supported for now."
    state = stored_state(store, result.thread_id, "argument")
    assert state["topic"] == TOPIC
    assert state["rounds_completed"] == 1
    assert state["key_points"]["against"] == ["Pauses are tiny", "Skills gap"]
    assert state["runs"][0]["providers"] == {
        "creator": "claude",
        "skeptic": "claude",
        "moderator": "claude",
    }


async def test_several_rounds_creator_answers_the_rebuttal_and_moderator_sees_all(
    store: ConversationDatabase,
) -> None:
    creator = ScriptedProvider("claude", ok(CREATOR_1), ok(CREATOR_2), ok(MODERATOR))
    skeptic = ScriptedProvider("gemini", ok(SKEPTIC_1), ok(SKEPTIC_2))

    result = await make(store, [creator], roles={"skeptic": skeptic}).run(ask(rounds=2))

    round_2_creator = creator.requests[1].prompt
    assert "the team knows no Rust" in round_2_creator
    assert "Answer the rebuttal" in round_2_creator
    round_2_skeptic = skeptic.requests[1].prompt
    assert "pauses spike to 300 ms" in round_2_skeptic
    moderator_prompt = creator.requests[2].prompt
    for text in ("invoicing", "knows no Rust", "300 ms", "A quarter of no features"):
        assert text in moderator_prompt
    assert "[Round 2 · Skeptic (against) · gemini]" in moderator_prompt
    assert [r["round"] for r in result.data["rounds"]] == [1, 2]
    assert result.data["key_points"]["against"] == [
        "Pauses are tiny",
        "Skills gap",
        "Opportunity cost",
    ]
    assert len(result.responses) == 5


async def test_continue_runs_another_round_set_with_the_history(
    store: ConversationDatabase,
) -> None:
    provider = ScriptedProvider(
        "claude",
        ok(CREATOR_1),
        ok(SKEPTIC_1),
        ok(MODERATOR),
        ok(CREATOR_2),
        ok(SKEPTIC_2),
        ok("Still depends.\nVerdict: Undecided."),
    )
    first = await make(store, [provider]).run(ask())

    follow = WorkflowRequest(
        prompt="What if we only rewrite the PDF renderer?", thread_id=first.thread_id
    )
    second = await make(store, [provider]).run(follow)

    assert second.continued
    creator_prompt = provider.requests[3].prompt
    # The earlier debate, with its roles, and the original topic and the follow-up.
    assert "Skeptic (against), round 1 (claude): GC pauses are 2 ms" in creator_prompt
    assert "Moderator, round 1 (claude): Both sides" in creator_prompt
    assert f"<topic>\n{TOPIC}\n</topic>" in creator_prompt
    assert "only rewrite the PDF renderer" in creator_prompt
    assert "The debate continues" in creator_prompt
    assert second.data["rounds"][0]["round"] == 2
    assert second.data["topic"] == TOPIC
    assert second.data["follow_up"] == "What if we only rewrite the PDF renderer?"
    assert second.data["synthesis"]["recommendation"] is None
    state = stored_state(store, first.thread_id, "argument")
    assert state["rounds_completed"] == 2
    assert len(state["runs"]) == 2
    assert state["key_points"]["for"] == ["No GC pauses", "Memory safety", "Spikes are real"]
    rounds = [m.metadata.get("round") for m in store.get_messages(first.thread_id)]
    assert rounds == [None, 1, 1, 1, None, 2, 2, 2]


async def test_continuing_an_imported_legacy_thread_without_state(
    store: ConversationDatabase,
) -> None:
    thread = store.create_thread("argument", title="old debate")
    store.add_messages(
        thread.id,
        [
            Message(role=Role.USER, content="Monorepo or polyrepo?"),
            Message(role=Role.ASSISTANT, content="Monorepo, for atomic changes.", provider="codex"),
        ],
    )
    provider = ScriptedProvider("claude", ok(CREATOR_1), ok(SKEPTIC_1), ok(MODERATOR))

    result = await make(store, [provider]).run(
        WorkflowRequest(prompt="Reconsider for 40 teams.", thread_id=thread.id)
    )

    assert result.continued
    prompt = provider.requests[0].prompt
    assert "Assistant (codex): Monorepo, for atomic changes." in prompt
    assert "<topic>\nMonorepo or polyrepo?\n</topic>" in prompt
    assert result.data["follow_up"] == "Reconsider for 40 teams."
    assert result.data["rounds"][0]["round"] == 1
    assert stored_state(store, thread.id, "argument")["rounds_completed"] == 1


async def test_a_role_failing_names_the_step(store: ConversationDatabase) -> None:
    creator = ScriptedProvider("claude", ok(CREATOR_1))
    skeptic = ScriptedProvider("gemini", fail(ProviderAuthError))

    with pytest.raises(AllProvidersFailedError) as caught:
        await make(store, [creator], roles={"skeptic": skeptic}).run(ask())

    assert "round 1: skeptic" in caught.value.message
    assert "gemini (auth_error" in caught.value.message
    assert store.list_threads() == []


async def test_a_role_without_its_own_provider_falls_back(store: ConversationDatabase) -> None:
    primary = ScriptedProvider("claude", fail(ProviderAuthError))
    fallback = ScriptedProvider("gemini", ok(CREATOR_1), ok(SKEPTIC_1), ok(MODERATOR))

    result = await make(store, [primary, fallback]).run(ask())

    assert result.data["synthesis"]["provider"] == "gemini"
    assert any("claude failed; gemini answered" in w for w in result.warnings)
    assert {f.provider for f in result.failures} == {"claude"}


async def test_missing_key_points_degrade_with_a_warning(store: ConversationDatabase) -> None:
    provider = ScriptedProvider(
        "claude",
        ok("I argue for it.\n\n- fast\n- safe"),  # a list, but no "Key points:" label
        ok("Plain prose and nothing else."),
        ok("No labelled verdict."),
    )

    result = await make(store, [provider]).run(ask())

    assert result.data["key_points"] == {"for": ["fast", "safe"], "against": []}
    assert any(
        "creator (claude) gave no 'Key points:' list; its last list" in w for w in result.warnings
    )
    assert any(
        "skeptic (claude) gave no 'Key points:' list; no key points" in w for w in result.warnings
    )
    assert result.data["synthesis"]["verdict"] is None


async def test_model_option_reaches_the_primary_only(store: ConversationDatabase) -> None:
    primary = ScriptedProvider("claude")
    skeptic = ScriptedProvider("gemini")
    request = ask()
    request.model = "opus"

    await make(store, [primary], roles={"skeptic": skeptic}).run(request)

    assert [r.model for r in primary.requests] == ["opus", "opus"]
    assert skeptic.requests[0].model is None


async def test_attached_files_reach_every_role(store: ConversationDatabase) -> None:
    provider = ScriptedProvider("claude")
    request = ask()
    request.attachments = [Attachment(path="billing.py", content="def invoice(): ...")]

    await make(store, [provider]).run(request)

    assert all('<file path="billing.py">' in r.prompt for r in provider.requests)


@pytest.mark.parametrize("rounds", [0, 6, "2"])
async def test_rounds_out_of_range_is_bad_input(store: ConversationDatabase, rounds: Any) -> None:
    with pytest.raises(InputError, match="--rounds"):
        await make(store, [ScriptedProvider("claude")]).run(ask(rounds=rounds))


def test_key_points_from_json_or_labels() -> None:
    assert key_points('```json\n{"key_points": ["a", "**b**"]}\n```') == (["a", "b"], True)
    assert key_points("text\n\n**Key Points:**\n1. one\n2. two") == (["one", "two"], True)
    assert key_points("text\n- last\n- list") == (["last", "list"], False)
    assert key_points("nothing") == ([], False)


def test_side_points_dedupe_across_rounds_case_insensitively() -> None:
    from model_chorus.models import GenerationResponse
    from model_chorus.workflows.argument import Turn

    response = GenerationResponse(content="", provider="claude")
    turns = [
        Turn("creator", 1, response, ["Fast", "Safe"]),
        Turn("skeptic", 1, response, ["Costly"]),
        Turn("creator", 2, response, ["fast", "Proven"]),
    ]
    assert side_points(turns) == {"for": ["Fast", "Safe", "Proven"], "against": ["Costly"]}


async def test_two_runs_continuing_at_once_both_keep_their_rounds(
    store: ConversationDatabase,
) -> None:
    first = await make(store, [ScriptedProvider("claude", ok(CREATOR_1))]).run(ask())
    other_db = other_store(store.path)
    other = make(other_db, [ScriptedProvider("gemini", ok(SKEPTIC_2))])
    # The other run holds and stores its whole round while this run's moderator
    # (third call) is thinking; both continued from round 1.
    provider = Interfering(
        ScriptedProvider("claude", ok(CREATOR_2), ok(SKEPTIC_2), ok(MODERATOR)),
        lambda: other.run(WorkflowRequest(prompt="What about hiring?", thread_id=first.thread_id)),
        on_call=3,
    )
    try:
        result = await make(store, [provider]).run(
            WorkflowRequest(prompt="What about the PDF renderer?", thread_id=first.thread_id)
        )
    finally:
        other_db.close()

    assert result.continued and result.data["rounds"][0]["round"] == 2
    messages = store.get_messages(first.thread_id)
    users = [m.content for m in messages if m.role == Role.USER]
    assert users == [TOPIC, "What about hiring?", "What about the PDF renderer?"]
    # Both are branches from round 1: each keeps the round number it was held under.
    rounds = [m.metadata.get("round") for m in messages if m.metadata.get("role") == "creator"]
    assert rounds == [1, 2, 2]
    state = stored_state(store, first.thread_id, "argument")
    assert [run["prompt"] for run in state["runs"]] == [
        TOPIC,
        "What about hiring?",
        "What about the PDF renderer?",
    ]
    assert state["rounds_completed"] == 2
    assert "Spikes are real" in state["key_points"]["for"]
    assert "Opportunity cost" in state["key_points"]["against"]


def test_merging_keeps_the_highest_round_and_every_key_point() -> None:
    from model_chorus.models import GenerationResponse
    from model_chorus.workflows.argument import Turn, updated_state

    response = GenerationResponse(content="", provider="claude")
    turns = [Turn("creator", 2, response, ["Fast"]), Turn("skeptic", 2, response, ["Costly"])]
    stored = {
        "topic": "T",
        "rounds_completed": 3,
        "key_points": {"for": ["Safe"], "against": ["costly"]},
        "runs": [{"prompt": "earlier"}],
    }
    merged = updated_state(stored, "T", turns, Turn("moderator", 2, response), "v", "r", ask("now"))
    assert merged["rounds_completed"] == 3
    assert merged["key_points"] == {"for": ["Safe", "Fast"], "against": ["costly"]}
    assert [run["prompt"] for run in merged["runs"]] == ["earlier", "now"]


async def test_a_debate_that_cannot_be_saved_still_returns_its_result(
    store: ConversationDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await make(store, [ScriptedProvider("claude", ok(CREATOR_1))]).run(ask())
    before = store.get_messages(first.thread_id)
    disk_full_after(monkeypatch)
    provider = ScriptedProvider("claude", ok(CREATOR_2), ok(SKEPTIC_2), ok(MODERATOR))

    with pytest.raises(TurnNotSavedError) as caught:
        await make(store, [provider]).run(
            WorkflowRequest(prompt="What about the PDF renderer?", thread_id=first.thread_id)
        )

    error = caught.value
    assert (error.kind, error.exit_code, error.thread_stored) == ("not_saved", 1, True)
    assert isinstance(error.cause, StoreError) and "disk" in (error.hint or "")
    assert f"thread {first.thread_id} keeps its earlier turns" in error.message
    # The debate the providers were paid for is all there.
    assert error.result.content == MODERATOR
    assert error.result.data["rounds"][0]["creator"]["text"] == CREATOR_2
    assert [r.provider for r in error.result.responses] == ["claude"] * 3
    assert store.get_messages(first.thread_id) == before
    assert len(stored_state(store, first.thread_id, "argument")["runs"]) == 1


def test_the_cli_rounds_limit_is_the_workflows() -> None:
    from model_chorus.cli.commands import argument as command

    assert command.MAX_ROUNDS == MAX_ROUNDS
