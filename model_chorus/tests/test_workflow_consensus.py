"""consensus workflow over in-process providers and a temporary store.

The providers are the provider-interface doubles (``ScriptedProvider``: one
scripted reply per call, every request remembered), so each test can check
what each model was asked and what the workflow made of the answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from model_chorus.config import Settings
from model_chorus.errors import (
    InputError,
    NotEnoughAnswersError,
    ProviderAuthError,
    ProviderTimeoutError,
    StoreError,
    TurnNotSavedError,
    WorkflowError,
)
from model_chorus.events import EventKind, WorkflowEvent
from model_chorus.models import GenerationRequest, GenerationResponse, Role, WorkflowResult
from model_chorus.providers.base import ModelProvider
from model_chorus.store.database import ConversationDatabase
from model_chorus.tests.middleware_doubles import GatedProvider, ScriptedProvider, fail, ok
from model_chorus.tests.other_run import Interfering, other_store
from model_chorus.tests.store_faults import disk_full_after
from model_chorus.tests.workflow_helpers import stored_state, workflow_env
from model_chorus.workflows.base import WorkflowRequest
from model_chorus.workflows.consensus import STRATEGIES, VOTE_PROMPT, ConsensusWorkflow
from model_chorus.workflows.voting import shuffled_labels


def make(
    store: ConversationDatabase,
    providers: Sequence[ModelProvider],
    *,
    roles: dict[str, ModelProvider] | None = None,
    settings: Settings | None = None,
    events: list[WorkflowEvent] | None = None,
) -> ConsensusWorkflow:
    return ConsensusWorkflow(
        workflow_env(store, providers, roles=roles, settings=settings, events=events)
    )


def ask(prompt: str = "Is SQLite WAL safe on NFS?", **options: Any) -> WorkflowRequest:
    return WorkflowRequest(prompt=prompt, options=options)


def vote(label: str, reason: str = "best") -> str:
    return f'```json\n{{"vote": "{label}", "reason": "{reason}"}}\n```'


def labelled(result: WorkflowResult) -> dict[str, dict[str, Any]]:
    """The answers by label. A vote shuffles which provider gets which label, so tests
    vote by label and look up whose answer that label was."""
    return {a["label"]: a for a in result.data["answers"]}


# --- all_responses, first_valid, partial failure ------------------------------------------


async def test_all_responses_labels_every_answer_and_stores_one_turn(
    store: ConversationDatabase,
) -> None:
    claude = ScriptedProvider("claude", ok("No: NFS locking is unreliable."))
    gemini = ScriptedProvider("gemini", ok("Avoid it; WAL needs shared memory."))
    events: list[WorkflowEvent] = []

    result = await make(store, [claude, gemini], events=events).run(ask())

    assert result.data["strategy"] == "all_responses"
    assert [(a["label"], a["provider"]) for a in result.data["answers"]] == [
        ("A", "claude"),
        ("B", "gemini"),
    ]
    assert "### claude\n\nNo: NFS locking is unreliable." in result.content
    assert "### gemini\n\nAvoid it; WAL needs shared memory." in result.content
    assert result.data["selected"] is None
    # Both were asked the user's question as is.
    assert claude.requests[0].prompt == gemini.requests[0].prompt == "Is SQLite WAL safe on NFS?"
    assert any(e.kind is EventKind.STEP and "claude, gemini" in e.message for e in events)

    messages = store.get_messages(result.thread_id)
    assert [m.role for m in messages] == [Role.USER, Role.ASSISTANT]
    assert messages[1].content == result.content
    assert [a["provider"] for a in messages[1].metadata["answers"]] == ["claude", "gemini"]
    state = stored_state(store, result.thread_id, "consensus")
    assert state == {
        "strategy": "all_responses",
        "turns": [
            {
                "turn": 1,
                "strategy": "all_responses",
                "answered": ["claude", "gemini"],
                "failed": [],
                "selected": None,
                "tie": False,
            }
        ],
    }


async def test_partial_failure_is_reported_not_hidden(store: ConversationDatabase) -> None:
    claude = ScriptedProvider("claude", ok("yes"))
    gemini = ScriptedProvider("gemini", fail(ProviderTimeoutError))

    result = await make(store, [claude, gemini]).run(ask())

    assert [a["provider"] for a in result.data["answers"]] == ["claude"]
    assert [(f.provider, f.kind) for f in result.failures] == [("gemini", "timeout")]
    assert stored_state(store, result.thread_id, "consensus")["turns"][0]["failed"] == ["gemini"]


async def test_min_responses_not_met_fails_naming_who_failed(store: ConversationDatabase) -> None:
    providers = [
        ScriptedProvider("claude", ok("yes")),
        ScriptedProvider("gemini", fail(ProviderAuthError)),
        ScriptedProvider("codex", fail(ProviderTimeoutError)),
    ]

    with pytest.raises(NotEnoughAnswersError) as caught:
        await make(store, providers).run(ask(min_responses=2))

    assert "Only 1 of the 2" in caught.value.message
    assert "gemini (auth_error" in caught.value.message
    assert "codex (timeout" in caught.value.message
    assert store.list_threads() == []


async def test_min_responses_above_the_provider_count_is_bad_input(
    store: ConversationDatabase,
) -> None:
    with pytest.raises(InputError, match="more than the 1 provider"):
        await make(store, [ScriptedProvider("claude")]).run(ask(min_responses=2))


async def test_unknown_strategy_is_bad_input(store: ConversationDatabase) -> None:
    with pytest.raises(InputError, match="Unknown consensus strategy") as caught:
        await make(store, [ScriptedProvider("claude")]).run(ask(strategy="loudest"))
    assert "synthesize" in (caught.value.hint or "")


async def test_empty_answers_are_left_out_with_a_warning(store: ConversationDatabase) -> None:
    providers = [ScriptedProvider("claude", ok("   ")), ScriptedProvider("gemini", ok("yes"))]

    result = await make(store, providers).run(ask(strategy="first_valid"))

    assert result.content == "yes"
    assert result.data["selected"] == {"label": "A", "provider": "gemini"}
    assert any("claude returned an empty answer" in w for w in result.warnings)


async def test_only_empty_answers_fail_the_collect_step(store: ConversationDatabase) -> None:
    with pytest.raises(WorkflowError) as caught:
        await make(store, [ScriptedProvider("claude", ok(""))]).run(ask())
    assert caught.value.step == "collect answers"


async def test_first_valid_takes_the_first_answer_to_arrive_and_cancels_the_rest(
    store: ConversationDatabase,
) -> None:
    slow_first = GatedProvider("claude", content="from claude")  # never answers
    failing = ScriptedProvider("codex", fail(ProviderAuthError))
    fast_second = ScriptedProvider("gemini", ok("from gemini"))

    result = await make(store, [slow_first, failing, fast_second]).run(ask(strategy="first_valid"))

    assert result.content == "from gemini"
    assert result.data["selected"] == {"label": "A", "provider": "gemini"}
    assert slow_first.cancelled
    # A provider that failed before the winner is a failure; the cancelled one is not.
    assert [(f.provider, f.kind) for f in result.failures] == [("codex", "auth_error")]
    assert [r.provider for r in result.responses] == ["gemini"]


async def test_first_valid_waits_past_empty_answers_and_for_min_responses(
    store: ConversationDatabase,
) -> None:
    empty = ScriptedProvider("codex", ok("  "))
    first = ScriptedProvider("gemini", ok("from gemini"))
    second = GatedProvider("claude", content="from claude")
    late = GatedProvider("cursor-agent")
    run = asyncio.create_task(
        make(store, [empty, first, second, late]).run(ask(strategy="first_valid", min_responses=2))
    )
    await second.started.wait()
    second.release()
    result = await run

    assert result.content == "from gemini"
    assert [a["provider"] for a in result.data["answers"]] == ["gemini", "claude"]
    assert late.cancelled and result.failures == []
    assert any("codex returned an empty answer" in w for w in result.warnings)


async def test_model_option_reaches_the_primary_only(store: ConversationDatabase) -> None:
    claude, gemini = ScriptedProvider("claude"), ScriptedProvider("gemini")
    request = ask()
    request.model = "opus"

    await make(store, [claude, gemini]).run(request)

    assert claude.requests[0].model == "opus"
    assert gemini.requests[0].model is None


async def test_fan_out_calls_overlap(store: ConversationDatabase) -> None:
    """Every provider is asked before any answers: wall time follows the slowest."""
    started: list[str] = []
    all_started = asyncio.Event()

    class Overlapping(ScriptedProvider):
        async def generate(self, request: GenerationRequest) -> GenerationResponse:
            started.append(self.name)
            if len(started) == 3:
                all_started.set()
            # Would deadlock (and time out) if the calls ran one after another.
            await asyncio.wait_for(all_started.wait(), timeout=5)
            return await super().generate(request)

    providers = [Overlapping(n) for n in ("claude", "gemini", "codex")]
    result = await make(store, providers).run(ask())
    assert len(result.data["answers"]) == 3


# --- majority and weighted voting -----------------------------------------------------------


async def test_majority_vote_anonymises_candidates_and_picks_the_winner(
    store: ConversationDatabase,
) -> None:
    claude = ScriptedProvider("claude", ok("Answer from claude"), ok(vote("B", "clearer")))
    gemini = ScriptedProvider("gemini", ok("Answer from gemini"), ok(vote("B")))
    codex = ScriptedProvider("codex", ok("Answer from codex"), ok("**Vote:** A"))

    result = await make(store, [claude, gemini, codex]).run(ask(strategy="majority"))

    answers = labelled(result)
    ballot = claude.requests[1].prompt
    # Every answer under its label, listed A, B, C whoever wrote it.
    blocks = [f'<answer label="{x}">\n{answers[x]["content"]}\n</answer>' for x in "ABC"]
    assert all(block in ballot for block in blocks)
    assert [ballot.index(b) for b in blocks] == sorted(ballot.index(b) for b in blocks)
    assert "Is SQLite WAL safe on NFS?" in ballot
    for name in ("claude", "gemini", "codex"):
        assert f"({name})" not in ballot and f'provider="{name}"' not in ballot
    winner = answers["B"]["provider"]
    assert result.content == f"Answer from {winner}"
    assert result.data["selected"] == {"label": "B", "provider": winner}
    assert result.data["scores"] == {"A": 1.0, "B": 2.0, "C": 0.0}
    assert result.data["tie"] is False
    assert [(v["voter"], v["vote"], v["reason"]) for v in result.data["votes"]] == [
        ("claude", "B", "clearer"),
        ("gemini", "B", "best"),
        ("codex", "A", ""),
    ]
    # Three answers and three ballots count towards usage; the winner is the primary.
    assert len(result.responses) == 6
    assert result.primary is not None and result.primary.content == f"Answer from {winner}"
    stored = store.get_messages(result.thread_id)[1]
    assert stored.provider == winner
    assert stored.metadata["selected"] == "B"


async def test_vote_labels_are_shuffled_by_thread_and_turn(store: ConversationDatabase) -> None:
    def voters() -> list[ModelProvider]:
        return [
            ScriptedProvider(name, ok(f"{name} says"), ok(vote("A")))
            for name in ("claude", "gemini", "codex")
        ]

    first = await make(store, voters()).run(ask(strategy="majority"))
    follow = WorkflowRequest(prompt="Again?", thread_id=first.thread_id)
    second = await make(store, voters()).run(follow)

    for result, turn in ((first, 1), (second, 2)):
        # Answers stay in provider order; the labels are the seeded permutation.
        assert [a["provider"] for a in result.data["answers"]] == ["claude", "gemini", "codex"]
        labels = [a["label"] for a in result.data["answers"]]
        assert labels == shuffled_labels(3, f"{first.thread_id}:{turn}")
        assert result.content == labelled(result)["A"]["content"]


async def test_majority_tie_is_reported_with_the_tied_candidates(
    store: ConversationDatabase,
) -> None:
    claude = ScriptedProvider("claude", ok("Yes."), ok(vote("A")))
    gemini = ScriptedProvider("gemini", ok("No."), ok(vote("B")))

    result = await make(store, [claude, gemini]).run(ask(strategy="majority"))

    assert result.data["tie"] is True
    assert result.data["tied"] == ["A", "B"]
    assert result.data["selected"] is None
    answers = labelled(result)
    a, b = answers["A"]["provider"], answers["B"]["provider"]
    assert result.content.startswith(f"The vote is tied between A ({a}) and B ({b})")
    assert "Yes." in result.content and "No." in result.content
    assert stored_state(store, result.thread_id, "consensus")["turns"][0]["tie"] is True


async def test_unreadable_or_failed_ballots_abstain_with_warnings(
    store: ConversationDatabase,
) -> None:
    claude = ScriptedProvider("claude", ok("one"), ok("They are all fine."))
    gemini = ScriptedProvider("gemini", ok("two"), fail(ProviderTimeoutError))
    codex = ScriptedProvider("codex", ok("three"), ok(vote("C")))

    result = await make(store, [claude, gemini, codex]).run(ask(strategy="majority"))

    assert result.content == labelled(result)["C"]["content"]
    votes = {v["voter"]: v for v in result.data["votes"]}
    assert votes["claude"]["abstained"] and votes["gemini"]["abstained"]
    assert any("claude's vote could not be read" in w for w in result.warnings)
    assert any("gemini did not vote (timeout" in w for w in result.warnings)
    assert [(f.provider, f.kind) for f in result.failures] == [("gemini", "timeout")]


async def test_no_countable_vote_degrades_to_all_responses(store: ConversationDatabase) -> None:
    claude = ScriptedProvider("claude", ok("one"), ok("no idea"))
    gemini = ScriptedProvider("gemini", ok("two"), ok("pass"))

    result = await make(store, [claude, gemini]).run(ask(strategy="majority"))

    assert "### claude\n\none" in result.content and "### gemini\n\ntwo" in result.content
    assert result.data["winners"] == []
    assert any("No vote could be counted" in w for w in result.warnings)


async def test_a_single_answer_needs_no_vote(store: ConversationDatabase) -> None:
    claude = ScriptedProvider("claude", ok("only me"))
    gemini = ScriptedProvider("gemini", fail(ProviderAuthError))

    result = await make(store, [claude, gemini]).run(ask(strategy="majority"))

    assert result.content == "only me"
    assert claude.calls == 1
    assert any("no vote was held" in w for w in result.warnings)


async def test_weighted_vote_counts_configured_weights(store: ConversationDatabase) -> None:
    settings = Settings(providers={"gemini": {"weight": 3.0}})

    def providers() -> list[ModelProvider]:
        return [
            ScriptedProvider("claude", ok("claude says"), ok(vote("A"))),
            ScriptedProvider("gemini", ok("gemini says"), ok(vote("B"))),
            ScriptedProvider("codex", ok("codex says"), ok(vote("A"))),
        ]

    majority = await make(store, providers(), settings=settings).run(ask(strategy="majority"))
    weighted = await make(store, providers(), settings=settings).run(ask(strategy="weighted"))

    assert majority.content == labelled(majority)["A"]["content"]
    assert weighted.content == labelled(weighted)["B"]["content"]
    assert weighted.data["scores"] == {"A": 2.0, "B": 3.0, "C": 0.0}
    assert weighted.data["weighted"] is True
    assert {v["voter"]: v["weight"] for v in weighted.data["votes"]}["gemini"] == 3.0


# --- synthesize -----------------------------------------------------------------------------

SYNTHESIS = """\
## Answer
Do not put a WAL database on NFS.

## Agreement
- Both say NFS locking is unreliable (claude, gemini)

## Differences
- claude allows read-only use; gemini forbids it
"""


async def test_synthesize_gives_the_synthesizer_every_named_answer(
    store: ConversationDatabase,
) -> None:
    claude = ScriptedProvider("claude", ok("claude: no, locking"))
    gemini = ScriptedProvider("gemini", ok("gemini: no, shm"))
    synthesizer = ScriptedProvider("codex", ok(SYNTHESIS))

    result = await make(store, [claude, gemini], roles={"synthesizer": synthesizer}).run(
        ask(strategy="synthesize")
    )

    prompt = synthesizer.requests[0].prompt
    assert '<answer provider="claude">\nclaude: no, locking\n</answer>' in prompt
    assert '<answer provider="gemini">\ngemini: no, shm\n</answer>' in prompt
    assert "Is SQLite WAL safe on NFS?" in prompt
    assert claude.calls == gemini.calls == 1
    assert result.content == SYNTHESIS
    assert result.data["synthesis"] == {
        "provider": "codex",
        "model": None,
        "agreement": ["Both say NFS locking is unreliable (claude, gemini)"],
        "differences": ["claude allows read-only use; gemini forbids it"],
    }
    assert result.primary is not None and result.primary.provider == "codex"
    assert store.get_messages(result.thread_id)[1].provider == "codex"
    assert result.warnings == []


async def test_synthesizer_defaults_to_the_first_provider(store: ConversationDatabase) -> None:
    claude = ScriptedProvider("claude", ok("a1"), ok("Synthesis without sections."))
    gemini = ScriptedProvider("gemini", ok("a2"))

    result = await make(store, [claude, gemini]).run(ask(strategy="synthesize"))

    assert claude.calls == 2 and gemini.calls == 1
    assert result.data["synthesis"]["agreement"] == []
    assert any("no Agreement and Differences section" in w for w in result.warnings)


async def test_failed_synthesizer_falls_back_to_a_model_that_answered(
    store: ConversationDatabase,
) -> None:
    claude = ScriptedProvider("claude", ok("a1"))
    gemini = ScriptedProvider("gemini", ok("a2"), ok(SYNTHESIS))
    codex = ScriptedProvider("codex", fail(ProviderAuthError))

    result = await make(store, [claude, gemini], roles={"synthesizer": codex}).run(
        ask(strategy="synthesize")
    )

    # claude is next in line after the failed synthesizer and writes it.
    assert claude.calls == 2
    assert result.data["synthesis"]["provider"] == "claude"
    assert any("synthesizer codex failed" in w for w in result.warnings)
    assert [(f.provider, f.kind) for f in result.failures] == [("codex", "auth_error")]


async def test_a_synthesizer_without_the_synthesize_strategy_is_warned_about(
    store: ConversationDatabase,
) -> None:
    synthesizer = ScriptedProvider("codex")

    result = await make(
        store, [ScriptedProvider("claude")], roles={"synthesizer": synthesizer}
    ).run(ask(strategy="first_valid"))

    assert synthesizer.calls == 0
    assert any(
        "--synthesizer is only used with --strategy synthesize" in w for w in result.warnings
    )


async def test_synthesis_failing_everywhere_names_the_step(store: ConversationDatabase) -> None:
    claude = ScriptedProvider("claude", ok("a1"), fail(ProviderTimeoutError))

    with pytest.raises(WorkflowError) as caught:
        await make(store, [claude]).run(ask(strategy="synthesize"))

    assert caught.value.step == "synthesize"
    assert "claude (timeout" in caught.value.message


# --- continuation ---------------------------------------------------------------------------


async def test_continue_carries_history_and_keeps_the_strategy(
    store: ConversationDatabase,
) -> None:
    claude = ScriptedProvider(
        "claude", ok("Use WAL."), ok(vote("A")), ok("Checkpoint often."), ok(vote("A"))
    )
    gemini = ScriptedProvider(
        "gemini", ok("Use rollback."), ok(vote("A")), ok("Checkpoint rarely."), ok(vote("B"))
    )
    first = await make(store, [claude, gemini]).run(ask("Which journal mode?", strategy="majority"))

    follow = WorkflowRequest(prompt="And checkpoints?", thread_id=first.thread_id)
    second = await make(store, [claude, gemini]).run(follow)

    assert second.continued
    assert second.data["strategy"] == "majority"  # from the thread's state
    prompt = claude.requests[2].prompt
    assert "User: Which journal mode?" in prompt
    winner = labelled(first)["A"]
    assert f"Assistant ({winner['provider']}): {winner['content']}" in prompt  # turn 1's winner
    assert prompt.endswith("And checkpoints?")
    assert len(store.get_messages(first.thread_id)) == 4
    turns = stored_state(store, first.thread_id, "consensus")["turns"]
    assert [t["turn"] for t in turns] == [1, 2]
    assert turns[1]["tie"] is True


async def test_continuing_a_legacy_thread_without_state_works(
    store: ConversationDatabase,
) -> None:
    thread = store.create_thread("consensus", title="old")
    result = await make(store, [ScriptedProvider("claude", ok("new"))]).run(
        WorkflowRequest(prompt="again?", thread_id=thread.id)
    )
    assert result.data["strategy"] == "all_responses"
    assert result.continued


def test_strategy_names_match_the_cli_choices() -> None:
    from typing import get_args

    from model_chorus.cli.commands.consensus import Strategy

    assert get_args(Strategy) == STRATEGIES


def test_vote_prompt_asks_for_json() -> None:
    text = VOTE_PROMPT.format(labels="A, B", question="q", candidates="")
    assert '{"vote": "A", "reason":' in text


# --- another run saving the same thread meanwhile -----------------------------------------


async def test_two_runs_continuing_at_once_both_keep_their_turn(
    store: ConversationDatabase,
) -> None:
    first = await make(store, [ScriptedProvider("claude", ok("Yes."))]).run(ask())
    other_db = other_store(store.path)
    other = make(other_db, [ScriptedProvider("gemini", ok("Depends."))])
    # The other run asks and saves its whole turn while this run waits for claude.
    claude = Interfering(
        ScriptedProvider("claude", ok("Still yes.")),
        lambda: other.run(WorkflowRequest(prompt="And on SMB?", thread_id=first.thread_id)),
    )
    try:
        result = await make(store, [claude, ScriptedProvider("gemini", ok("No."))]).run(
            WorkflowRequest(prompt="And now?", thread_id=first.thread_id, options={})
        )
    finally:
        other_db.close()

    assert result.continued
    contents = [m.content for m in store.get_messages(first.thread_id)]
    assert contents[:4] == [
        "Is SQLite WAL safe on NFS?",
        first.content,
        "And on SMB?",
        "### gemini\n\nDepends.",
    ]
    assert contents[4:] == ["And now?", result.content]
    turns = stored_state(store, first.thread_id, "consensus")["turns"]
    assert [(t["turn"], t["answered"]) for t in turns] == [
        (1, ["claude"]),
        (2, ["gemini"]),
        (3, ["claude", "gemini"]),
    ]


async def test_a_turn_that_cannot_be_saved_still_returns_the_answers(
    store: ConversationDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk_full_after(monkeypatch)
    claude = ScriptedProvider("claude", ok("Yes."))
    gemini = ScriptedProvider("gemini", ok("No."))

    with pytest.raises(TurnNotSavedError) as caught:
        await make(store, [claude, gemini]).run(ask())

    error = caught.value
    assert (error.kind, error.exit_code, error.thread_stored) == ("not_saved", 1, False)
    assert isinstance(error.cause, StoreError)
    assert "no thread was created" in error.message and "disk is full" in error.message
    assert error.hint is not None and "disk space" in error.hint
    assert [a["content"] for a in error.result.data["answers"]] == ["Yes.", "No."]
    assert "### claude\n\nYes." in error.result.content
    assert store.list_threads() == []
