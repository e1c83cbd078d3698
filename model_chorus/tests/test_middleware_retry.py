"""Retry: what is retried, how often, with which delays, and within which deadline."""

from __future__ import annotations

import asyncio

import pytest

from model_chorus.errors import (
    ProviderAuthError,
    ProviderBadRequestError,
    ProviderConnectionError,
    ProviderCrashError,
    ProviderDisabledError,
    ProviderError,
    ProviderNotInstalledError,
    ProviderOutputError,
    ProviderOverloadedError,
    ProviderRateLimitError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)
from model_chorus.events import EventKind, WorkflowEvent
from model_chorus.models import GenerationRequest, GenerationResponse
from model_chorus.providers.middleware.retry import RetryingProvider
from model_chorus.tests.middleware_doubles import (
    FakeClock,
    ScriptedProvider,
    fail,
    ok,
    request,
    times_out,
)

TRANSIENT = [
    ProviderTimeoutError,
    ProviderRateLimitError,
    ProviderOverloadedError,
    ProviderConnectionError,
    ProviderCrashError,
]
PERMANENT = [
    ProviderAuthError,
    ProviderBadRequestError,
    ProviderOutputError,
    ProviderNotInstalledError,
    ProviderDisabledError,
    ProviderUnavailableError,
]


def retrying(
    inner: object,
    clock: FakeClock,
    *,
    max_attempts: int = 3,
    initial_delay: float = 1.0,
    max_delay: float = 10.0,
    jitter: float = 0.0,
    timeout: float = 300.0,
    events: list[WorkflowEvent] | None = None,
) -> RetryingProvider:
    return RetryingProvider(
        inner,  # type: ignore[arg-type]
        max_attempts=max_attempts,
        initial_delay=initial_delay,
        max_delay=max_delay,
        jitter=jitter,
        default_timeout=timeout,
        events=events.append if events is not None else lambda e: None,
        clock=clock.clock,
    )


@pytest.mark.parametrize("error", TRANSIENT, ids=lambda e: e.kind)
async def test_transient_errors_are_retried_until_an_answer(error: type[ProviderError]) -> None:
    clock = FakeClock()
    events: list[WorkflowEvent] = []
    inner = ScriptedProvider("gemini", fail(error), ok("fine"), clock=clock)

    response = await retrying(inner, clock, events=events).generate(request())

    assert response.content == "fine"
    assert response.attempts == 2
    assert inner.calls == 2
    [event] = events
    assert event.kind is EventKind.RETRY
    assert event.provider == "gemini"
    assert event.data == {"reason": error.kind, "delay_s": 1.0, "attempt": 2}
    assert "retrying in 1.0 s" in event.message


@pytest.mark.parametrize("error", PERMANENT, ids=lambda e: e.kind)
async def test_permanent_errors_fail_at_once(error: type[ProviderError]) -> None:
    clock = FakeClock()
    inner = ScriptedProvider("claude", fail(error), ok())

    with pytest.raises(error) as caught:
        await retrying(inner, clock).generate(request())

    assert inner.calls == 1
    assert clock.sleeps == []
    assert "gave up" not in caught.value.message


async def test_gives_up_after_max_attempts_with_the_last_error() -> None:
    clock = FakeClock()
    inner = ScriptedProvider("codex", fail(ProviderOverloadedError))

    with pytest.raises(ProviderOverloadedError) as caught:
        await retrying(inner, clock, max_attempts=3).generate(request())

    assert inner.calls == 3
    assert caught.value.provider == "codex"
    assert caught.value.message.endswith("(gave up after 3 attempts)")


async def test_backoff_is_exponential_and_capped() -> None:
    clock = FakeClock()
    inner = ScriptedProvider("codex", fail(ProviderRateLimitError))

    with pytest.raises(ProviderRateLimitError):
        await retrying(inner, clock, max_attempts=5, initial_delay=1.0, max_delay=3.0).generate(
            request()
        )

    assert clock.sleeps == [1.0, 2.0, 3.0, 3.0]


async def test_jitter_adds_a_random_part_within_bounds() -> None:
    clock = FakeClock()
    inner = ScriptedProvider("codex", fail(ProviderRateLimitError))

    with pytest.raises(ProviderRateLimitError):
        await retrying(
            inner, clock, max_attempts=4, initial_delay=1.0, jitter=0.5, timeout=1000
        ).generate(request())

    assert len(clock.sleeps) == 3
    for base, slept in zip([1.0, 2.0, 4.0], clock.sleeps, strict=True):
        assert base <= slept <= base + 0.5


async def test_each_attempt_gets_the_time_that_is_left() -> None:
    clock = FakeClock()
    inner = ScriptedProvider("gemini", fail(ProviderRateLimitError, takes=0.25), clock=clock)

    with pytest.raises(ProviderRateLimitError):
        await retrying(inner, clock, timeout=5.0).generate(request())

    # 0 → fails at 0.25 → sleeps 1 → 1.25 → fails at 1.5 → sleeps 2 → 3.5;
    # later attempts get what is left, rounded down to a tenth of a second.
    assert [r.timeout for r in inner.requests] == pytest.approx([5.0, 3.7, 1.5])


async def test_request_timeout_overrides_the_configured_one() -> None:
    clock = FakeClock()
    inner = ScriptedProvider("gemini", ok())

    await retrying(inner, clock, timeout=300.0).generate(request(timeout=7.0))

    assert inner.requests[0].timeout == 7.0


async def test_a_two_second_call_never_takes_longer_than_two_seconds() -> None:
    """`--timeout 2` with a tool that keeps timing out: one attempt, no sleep, 2 s total."""
    clock = FakeClock()
    start = clock.now
    inner = ScriptedProvider("gemini", times_out(), clock=clock)

    with pytest.raises(ProviderTimeoutError):
        await retrying(inner, clock, max_attempts=3).generate(request(timeout=2.0))

    assert inner.calls == 1
    assert clock.sleeps == []
    assert clock.now - start == pytest.approx(2.0)


async def test_no_sleep_starts_that_would_end_past_the_deadline() -> None:
    clock = FakeClock()
    start = clock.now
    # Fails fast, but 0.5 s + a 1 s backoff leaves less than a useful attempt before 2 s.
    inner = ScriptedProvider("gemini", fail(ProviderRateLimitError, takes=0.5), clock=clock)

    with pytest.raises(ProviderRateLimitError):
        await retrying(inner, clock, max_attempts=3).generate(request(timeout=2.0))

    assert inner.calls == 1
    assert clock.sleeps == []
    assert clock.now - start <= 2.0


class IgnoresTimeout:
    """A provider that never looks at request.timeout (the backstop's case)."""

    name = "stubborn"

    def __init__(self) -> None:
        self.cancelled = False

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        raise AssertionError("unreachable")


async def test_a_provider_that_ignores_its_timeout_is_cancelled_at_the_deadline() -> None:
    inner = IgnoresTimeout()
    provider = RetryingProvider(
        inner,
        max_attempts=3,
        initial_delay=0.0,
        max_delay=0.0,
        jitter=0.0,
        default_timeout=0.05,
        deadline_grace_s=0.05,
    )

    with pytest.raises(ProviderTimeoutError) as caught:
        await provider.generate(request())

    assert inner.cancelled
    assert caught.value.provider == "stubborn"


async def test_cancellation_is_not_retried() -> None:
    from model_chorus.tests.middleware_doubles import GatedProvider

    inner = GatedProvider("claude")
    provider = retrying(inner, FakeClock())
    task = asyncio.create_task(provider.generate(request()))
    await inner.started.wait()

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert inner.cancelled
    assert inner.calls == 1
