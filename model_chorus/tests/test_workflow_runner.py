"""WorkflowRunner policies over in-process providers (the provider interface's doubles).

Process-level behaviour (killed process groups) is covered with the fake tools
in ``test_faults.py``.
"""

from __future__ import annotations

import asyncio

import pytest

from model_chorus.errors import (
    AllProvidersFailedError,
    NotEnoughAnswersError,
    ProviderAuthError,
    ProviderRateLimitError,
    ProviderTimeoutError,
)
from model_chorus.events import EventKind, WorkflowEvent
from model_chorus.models import GenerationRequest
from model_chorus.tests.middleware_doubles import GatedProvider, ScriptedProvider, fail, ok, request
from model_chorus.workflows.runner import RunOutcome, WorkflowRunner


def runner_with_events() -> tuple[WorkflowRunner, list[WorkflowEvent]]:
    events: list[WorkflowEvent] = []
    return WorkflowRunner(events.append), events


# --- sequential ----------------------------------------------------------------------


async def test_sequential_falls_back_until_one_answers_and_stops_there() -> None:
    runner, events = runner_with_events()
    primary = ScriptedProvider("claude", fail(ProviderAuthError))
    fallback = ScriptedProvider("gemini", ok("from gemini"))
    unused = ScriptedProvider("codex")

    outcome = await runner.sequential([primary, fallback, unused], request())

    assert [r.content for r in outcome.responses] == ["from gemini"]
    assert [e.kind for e in outcome.errors] == ["auth_error"]
    assert unused.calls == 0
    assert [(e.kind, e.provider) for e in events if e.kind is EventKind.FALLBACK] == [
        (EventKind.FALLBACK, "gemini")
    ]
    assert outcome.failures[0].provider == "claude"


async def test_sequential_with_every_provider_failing_reports_them_all() -> None:
    runner = WorkflowRunner()
    providers = [
        ScriptedProvider("claude", fail(ProviderAuthError)),
        ScriptedProvider("gemini", fail(ProviderRateLimitError)),
    ]

    outcome = await runner.sequential(providers, request())

    with pytest.raises(AllProvidersFailedError) as caught:
        outcome.require(1)
    assert [f.provider for f in caught.value.failures] == ["claude", "gemini"]
    assert "claude (auth_error" in caught.value.message


# --- parallel ------------------------------------------------------------------------


async def test_parallel_keeps_partial_results_in_provider_order() -> None:
    runner = WorkflowRunner()
    slow = GatedProvider("claude", content="claude says")
    fast = ScriptedProvider("gemini", ok("gemini says"))
    broken = ScriptedProvider("codex", fail(ProviderRateLimitError))

    task = asyncio.create_task(runner.parallel([slow, fast, broken], request()))
    await slow.started.wait()
    slow.release()
    outcome = await task

    assert [r.provider for r in outcome.responses] == ["claude", "gemini"]
    assert [e.provider for e in outcome.errors] == ["codex"]
    outcome.require(2)
    with pytest.raises(NotEnoughAnswersError, match="Only 2 of the 3 answers needed"):
        outcome.require(3, what="consensus")


async def test_parallel_with_no_providers_is_an_empty_outcome() -> None:
    outcome = await WorkflowRunner().parallel([], request())

    assert outcome == RunOutcome()
    with pytest.raises(AllProvidersFailedError):
        outcome.require(1)


async def test_each_provider_can_get_its_own_request() -> None:
    a, b = ScriptedProvider("claude"), ScriptedProvider("gemini")

    def per_provider(provider: object) -> GenerationRequest:
        return request(f"role for {provider.name}")  # type: ignore[attr-defined]

    await WorkflowRunner().parallel([a, b], per_provider)

    assert a.requests[0].prompt == "role for claude"
    assert b.requests[0].prompt == "role for gemini"


def test_several_hints_and_messages_read_as_sentences() -> None:
    timeout_hint = "Raise --timeout (or the provider's `timeout` in config) for long tasks."
    failures = [
        ProviderTimeoutError(
            "claude did not answer within 5 s and was stopped.",
            provider="claude",
            hint=timeout_hint,
        ),
        ProviderAuthError("gemini is not logged in", provider="gemini", hint="Run `gemini` once"),
        ProviderTimeoutError("codex did not answer.", provider="codex", hint=timeout_hint),
    ]

    every = AllProvidersFailedError(failures)
    some = NotEnoughAnswersError(failures, answered=1, needed=2, what="consensus")

    assert every.hint == f"{timeout_hint} Run `gemini` once."
    assert some.hint == every.hint
    assert "claude (timeout: claude did not answer within 5 s and was stopped)," in every.message
    assert ".)" not in every.message + some.message and ";" not in every.hint


# --- first ---------------------------------------------------------------------------


async def test_first_takes_the_first_good_answer_and_cancels_the_rest() -> None:
    runner = WorkflowRunner()
    failing = ScriptedProvider("codex", fail(ProviderRateLimitError))
    winner = ScriptedProvider("gemini", ok("fast"))
    loser = GatedProvider("claude")

    outcome = await runner.first([loser, failing, winner], request())

    assert [r.content for r in outcome.responses] == ["fast"]
    assert [e.provider for e in outcome.errors] == ["codex"]
    assert loser.cancelled


async def test_first_races_on_past_an_answer_it_does_not_accept() -> None:
    empty = ScriptedProvider("codex", ok("  "))
    slow = GatedProvider("claude", content="real answer")
    never = GatedProvider("gemini")
    race = asyncio.create_task(
        WorkflowRunner().first(
            [empty, slow, never], request(), accept=lambda r: bool(r.content.strip())
        )
    )
    await slow.started.wait()
    await asyncio.sleep(0)
    assert not race.done()  # the empty answer did not end it

    slow.release()
    outcome = await race

    assert [r.content for r in outcome.responses] == ["  ", "real answer"]
    assert outcome.errors == []  # the cancelled provider did not fail
    assert never.cancelled


async def test_first_can_wait_for_several_answers() -> None:
    quick = [ScriptedProvider(name, ok(name)) for name in ("codex", "gemini")]
    late = GatedProvider("claude")

    outcome = await WorkflowRunner().first([late, *quick], request(), needed=2)

    assert [r.content for r in outcome.responses] == ["codex", "gemini"]
    assert late.cancelled


async def test_first_with_every_provider_failing_keeps_every_error() -> None:
    providers = [
        ScriptedProvider("claude", fail(ProviderAuthError)),
        ScriptedProvider("gemini", fail(ProviderRateLimitError)),
    ]

    outcome = await WorkflowRunner().first(providers, request())

    assert outcome.responses == []
    assert sorted(e.provider for e in outcome.errors) == ["claude", "gemini"]


# --- cancellation (Ctrl-C) -----------------------------------------------------------


@pytest.mark.parametrize("policy", ["parallel", "first", "sequential"])
async def test_cancelling_the_runner_cancels_every_call_it_started(policy: str) -> None:
    runner = WorkflowRunner()
    providers = [GatedProvider("claude"), GatedProvider("gemini")]
    task = asyncio.create_task(getattr(runner, policy)(providers, request()))
    await providers[0].started.wait()
    await asyncio.sleep(0)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    started = [p for p in providers if p.calls]
    assert started, "at least the first provider was asked"
    assert all(p.cancelled for p in started)
    if policy != "sequential":
        assert len(started) == 2
