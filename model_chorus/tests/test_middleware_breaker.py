"""Circuit breaker: what opens it, what it refuses, how it probes, where it persists."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

import pytest

from model_chorus.config import Settings
from model_chorus.errors import (
    AllProvidersFailedError,
    ProviderAuthError,
    ProviderBadRequestError,
    ProviderError,
    ProviderOutputError,
    ProviderRateLimitError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)
from model_chorus.models import GenerationRequest, GenerationResponse
from model_chorus.providers.middleware.breaker import (
    BreakerState,
    CircuitBreakerProvider,
    _Record,
    admit,
    breaker_status,
    reset_breaker,
)
from model_chorus.tests.middleware_doubles import (
    FakeClock,
    GatedProvider,
    MemoryStore,
    ScriptedProvider,
    fail,
    ok,
    request,
)


def breaker(
    inner: object,
    store: MemoryStore,
    clock: FakeClock,
    *,
    threshold: int = 3,
    reset: float = 60.0,
    timeout: float = 30.0,
    enforce: bool = True,
) -> CircuitBreakerProvider:
    return CircuitBreakerProvider(
        inner,  # type: ignore[arg-type]
        store=store,
        failure_threshold=threshold,
        reset_timeout=reset,
        default_timeout=timeout,
        enforce=enforce,
        clock=clock.clock,
    )


async def fail_calls(provider: CircuitBreakerProvider, n: int) -> None:
    for _ in range(n):
        with pytest.raises(ProviderError):
            await provider.generate(request())


# --- the rules, without a store ----------------------------------------------------


def test_open_refuses_until_reset_then_admits_one_probe() -> None:
    opened = _Record(BreakerState.OPEN, failures=3, opened_at=100.0)

    assert not admit(opened, 159.0, reset_timeout=60, lease=10).allowed
    probe = admit(opened, 160.0, reset_timeout=60, lease=10)
    assert probe.allowed and probe.probe
    assert probe.record.state is BreakerState.HALF_OPEN
    assert probe.record.probe_until == 170.0
    # While the probe is out, nobody else gets through ...
    assert not admit(probe.record, 165.0, reset_timeout=60, lease=10).allowed
    # ... unless its lease ran out (the probing process died).
    assert admit(probe.record, 170.0, reset_timeout=60, lease=10).probe


def test_damaged_state_reads_as_closed() -> None:
    assert _Record.load({"state": "sideways", "failures": "x"}) == _Record()
    assert _Record.load(None) == _Record()


# --- the wrapper -------------------------------------------------------------------


async def test_consecutive_transient_failures_open_it_and_it_refuses_without_calling() -> None:
    clock = FakeClock()
    store = MemoryStore()
    inner = ScriptedProvider("gemini", fail(ProviderTimeoutError))
    provider = breaker(inner, store, clock, threshold=3, reset=60)

    await fail_calls(provider, 3)
    with pytest.raises(ProviderUnavailableError) as caught:
        await provider.generate(request())

    assert inner.calls == 3
    error = caught.value
    assert error.kind == "circuit_open"
    assert error.provider == "gemini"
    assert "circuit breaker open" in error.message
    assert "timeout" in error.message
    retry_at = datetime.fromtimestamp(clock.wall() + 60).strftime("%H:%M:%S")
    assert error.hint == (
        f"gemini failed 3 times in a row; next try after {retry_at}, or use --no-breaker."
    )


@pytest.mark.parametrize(
    "error", [ProviderAuthError, ProviderBadRequestError, ProviderOutputError], ids=str
)
async def test_permanent_failures_do_not_open_it(error: type[ProviderError]) -> None:
    store = MemoryStore()
    inner = ScriptedProvider("claude", fail(error))
    provider = breaker(inner, store, FakeClock(), threshold=2)

    await fail_calls(provider, 4)

    assert inner.calls == 4
    assert breaker_status(store, "claude", Settings()).state is BreakerState.CLOSED


async def test_permanent_failures_do_not_reset_the_streak_either() -> None:
    store = MemoryStore()
    inner = ScriptedProvider(
        "claude",
        fail(ProviderRateLimitError),
        fail(ProviderRateLimitError),
        fail(ProviderAuthError),
        fail(ProviderRateLimitError),
    )
    provider = breaker(inner, store, FakeClock(), threshold=3)

    await fail_calls(provider, 4)

    assert store.breakers["claude"]["state"] == "open"


async def test_a_success_resets_the_streak() -> None:
    store = MemoryStore()
    inner = ScriptedProvider(
        "codex",
        fail(ProviderTimeoutError),
        fail(ProviderTimeoutError),
        ok(),
        fail(ProviderTimeoutError),
        fail(ProviderTimeoutError),
        ok(),
    )
    provider = breaker(inner, store, FakeClock(), threshold=3)

    for _ in range(6):
        with contextlib.suppress(ProviderTimeoutError):
            await provider.generate(request())

    assert inner.calls == 6
    assert store.breakers["codex"]["state"] == "closed"
    assert store.breakers["codex"]["failures"] == 0


async def test_after_the_reset_timeout_one_probe_goes_through_and_success_closes() -> None:
    clock = FakeClock()
    store = MemoryStore()
    failing = breaker(ScriptedProvider("gemini", fail(ProviderTimeoutError)), store, clock)
    await fail_calls(failing, 3)
    clock.advance(61)

    gated = GatedProvider("gemini", content="back")
    provider = breaker(gated, store, clock)
    probe = asyncio.create_task(provider.generate(request()))
    await gated.started.wait()
    with pytest.raises(ProviderUnavailableError) as concurrent:
        await provider.generate(request())
    gated.release()
    response = await probe

    assert response.content == "back"
    assert "half-open" in concurrent.value.message
    assert gated.calls == 1
    assert store.breakers["gemini"]["state"] == "closed"


async def test_a_failed_probe_opens_it_again_for_a_full_reset_timeout() -> None:
    clock = FakeClock()
    store = MemoryStore()
    inner = ScriptedProvider("gemini", fail(ProviderTimeoutError))
    provider = breaker(inner, store, clock, reset=60)
    await fail_calls(provider, 3)
    clock.advance(61)

    await fail_calls(provider, 1)  # the probe
    clock.advance(59)
    with pytest.raises(ProviderUnavailableError):
        await provider.generate(request())

    assert inner.calls == 4
    assert store.breakers["gemini"]["state"] == "open"
    assert store.breakers["gemini"]["opened_at"] == clock.wall() - 59


async def test_a_cancelled_probe_frees_the_slot() -> None:
    clock = FakeClock()
    store = MemoryStore()
    await fail_calls(
        breaker(ScriptedProvider("gemini", fail(ProviderTimeoutError)), store, clock), 3
    )
    clock.advance(61)
    gated = GatedProvider("gemini")
    provider = breaker(gated, store, clock)
    probe = asyncio.create_task(provider.generate(request()))
    await gated.started.wait()

    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    after = breaker(ScriptedProvider("gemini", ok("up")), store, clock)

    assert (await after.generate(request())).content == "up"
    assert store.breakers["gemini"]["state"] == "closed"


async def test_state_is_shared_through_the_store_with_the_next_process() -> None:
    clock = FakeClock()
    store = MemoryStore()
    first_run = breaker(ScriptedProvider("codex", fail(ProviderTimeoutError)), store, clock)
    await fail_calls(first_run, 3)

    second_inner = ScriptedProvider("codex", ok())
    second_run = breaker(second_inner, store, clock)
    with pytest.raises(ProviderUnavailableError):
        await second_run.generate(request())

    assert second_inner.calls == 0


async def test_a_broken_store_lets_calls_through(caplog: pytest.LogCaptureFixture) -> None:
    store = MemoryStore()
    store.broken = True
    inner = ScriptedProvider("claude", ok("still works"))

    with caplog.at_level(logging.WARNING, logger="model_chorus"):
        response = await breaker(inner, store, FakeClock()).generate(request())

    assert response.content == "still works"
    assert "circuit breaker state for claude unavailable" in caplog.text


# --- not enforced (--no-breaker): no refusal, same bookkeeping ---------------------


async def test_an_unenforced_breaker_calls_through_an_open_one_and_its_success_closes_it() -> None:
    clock = FakeClock()
    store = MemoryStore()
    await fail_calls(
        breaker(ScriptedProvider("gemini", fail(ProviderTimeoutError)), store, clock), 3
    )
    assert store.breakers["gemini"]["state"] == "open"

    bypass = ScriptedProvider("gemini", ok("back"))
    response = await breaker(bypass, store, clock, enforce=False).generate(request())
    plain = ScriptedProvider("gemini", ok("still back"))
    after = await breaker(plain, store, clock).generate(request())

    assert response.content == "back"
    assert store.breakers["gemini"]["failures"] == 0
    # The next ordinary run is not refused: the tool just answered.
    assert after.content == "still back" and plain.calls == 1


async def test_an_unenforced_breaker_still_counts_failures_and_never_probes() -> None:
    clock = FakeClock()
    store = MemoryStore()
    inner = ScriptedProvider("codex", fail(ProviderTimeoutError))
    bypass = breaker(inner, store, clock, threshold=3, enforce=False)

    await fail_calls(bypass, 5)  # past the threshold: open, but still called

    assert inner.calls == 5
    assert store.breakers["codex"]["state"] == "open"
    assert store.breakers["codex"]["failures"] == 5
    clock.advance(61)
    await fail_calls(bypass, 1)  # after the reset time: a plain call, not the probe
    assert store.breakers["codex"]["state"] == "open"
    assert store.breakers["codex"]["probe_until"] is None
    with pytest.raises(ProviderUnavailableError):
        await breaker(ScriptedProvider("codex", ok()), store, clock).generate(request())


# --- status for list-providers -------------------------------------------------------


async def test_status_reports_open_then_half_open_after_the_reset_time() -> None:
    clock = FakeClock()
    store = MemoryStore()
    settings = Settings(breaker={"reset_timeout": 60})
    await fail_calls(
        breaker(ScriptedProvider("gemini", fail(ProviderTimeoutError)), store, clock), 3
    )

    status = breaker_status(store, "gemini", settings, clock=clock.clock)
    assert status.state is BreakerState.OPEN
    assert status.failures == 3
    assert status.retry_at is not None and status.opened_at is not None
    assert (status.retry_at - status.opened_at).total_seconds() == 60
    assert status.to_dict()["state"] == "open"
    assert status.last_error is not None and status.last_error.startswith("timeout:")

    clock.advance(60)
    assert breaker_status(store, "gemini", settings, clock=clock.clock).state is (
        BreakerState.HALF_OPEN
    )


def test_status_of_an_unknown_provider_is_closed() -> None:
    store = MemoryStore()
    store.set_breaker("codex", {"state": "open", "failures": 5, "opened_at": 1.0})

    status = breaker_status(store, "claude", Settings(breaker={"enabled": False}))

    assert (status.state, status.failures, status.enabled) == (BreakerState.CLOSED, 0, False)


async def test_reset_closes_an_open_breaker_at_once_and_reports_what_it_was() -> None:
    clock = FakeClock()
    store = MemoryStore()
    settings = Settings(breaker={"reset_timeout": 60})
    await fail_calls(
        breaker(ScriptedProvider("codex", fail(ProviderTimeoutError)), store, clock), 3
    )

    before = reset_breaker(store, "codex", settings, clock=clock.clock)
    inner = ScriptedProvider("codex", ok("fixed"))
    response = await breaker(inner, store, clock).generate(request())  # no wait for the reset

    assert (before.state, before.failures) == (BreakerState.OPEN, 3)
    assert before.last_error is not None and before.last_error.startswith("timeout:")
    assert breaker_status(store, "codex", settings).failures == 0
    assert response.content == "fixed" and inner.calls == 1


def test_reset_of_a_closed_breaker_reports_closed() -> None:
    before = reset_breaker(MemoryStore(), "gemini", Settings())
    assert (before.state, before.failures) == (BreakerState.CLOSED, 0)


# --- a user's short --timeout is not the tool's fault --------------------------------------


async def test_timeouts_under_a_shorter_per_request_timeout_do_not_open_it() -> None:
    store = MemoryStore()
    inner = ScriptedProvider("claude", fail(ProviderTimeoutError))
    provider = breaker(inner, store, FakeClock(), threshold=3, timeout=30.0)

    for _ in range(5):
        with pytest.raises(ProviderTimeoutError):
            await provider.generate(request(timeout=0.5))

    assert inner.calls == 5
    assert breaker_status(store, "claude", Settings()).state is BreakerState.CLOSED
    assert breaker_status(store, "claude", Settings()).failures == 0


@pytest.mark.parametrize("timeout", [None, 30.0, 90.0], ids=["configured", "same", "longer"])
async def test_timeouts_with_at_least_the_configured_time_count(timeout: float | None) -> None:
    store = MemoryStore()
    inner = ScriptedProvider("claude", fail(ProviderTimeoutError))
    provider = breaker(inner, store, FakeClock(), threshold=2, timeout=30.0)

    for _ in range(2):
        with pytest.raises(ProviderTimeoutError):
            await provider.generate(request(timeout=timeout))

    assert store.breakers["claude"]["state"] == "open"


async def test_other_transient_failures_count_whatever_the_timeout() -> None:
    store = MemoryStore()
    inner = ScriptedProvider("claude", fail(ProviderRateLimitError))
    provider = breaker(inner, store, FakeClock(), threshold=2, timeout=30.0)

    for _ in range(2):
        with pytest.raises(ProviderRateLimitError):
            await provider.generate(request(timeout=0.5))

    assert store.breakers["claude"]["state"] == "open"


async def test_a_probe_that_times_out_under_a_short_timeout_frees_the_slot_only() -> None:
    clock = FakeClock()
    store = MemoryStore()
    await fail_calls(
        breaker(ScriptedProvider("gemini", fail(ProviderTimeoutError)), store, clock), 3
    )
    clock.advance(61)
    impatient = breaker(ScriptedProvider("gemini", fail(ProviderTimeoutError)), store, clock)

    with pytest.raises(ProviderTimeoutError):
        await impatient.generate(request(timeout=0.5))  # the probe
    after = breaker(ScriptedProvider("gemini", ok("up")), store, clock)

    assert (await after.generate(request())).content == "up"  # the next call probes at once
    assert store.breakers["gemini"]["state"] == "closed"


# --- wording --------------------------------------------------------------------------------


async def test_the_refusal_quotes_the_last_error_without_doubled_punctuation() -> None:
    store = MemoryStore()

    class Stopped(ScriptedProvider):
        async def generate(self, request: GenerationRequest) -> GenerationResponse:
            self.requests.append(request)
            raise ProviderTimeoutError(
                "gemini did not answer within 30 s and was stopped.", provider="gemini"
            )

    provider = breaker(Stopped("gemini"), store, FakeClock(), threshold=1)
    await fail_calls(provider, 1)
    with pytest.raises(ProviderUnavailableError) as caught:
        await provider.generate(request())

    assert caught.value.message.endswith(
        "Last error: timeout: gemini did not answer within 30 s and was stopped."
    )
    assert ".." not in caught.value.message
    failed = AllProvidersFailedError([caught.value])
    assert ".." not in failed.message and ".)" not in failed.message
