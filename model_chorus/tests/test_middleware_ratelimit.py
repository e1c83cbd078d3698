"""Rate limiter: requests per minute per provider, shared by the calls of one run."""

from __future__ import annotations

import asyncio

import pytest

from model_chorus.errors import ProviderLocalRateLimitError
from model_chorus.providers.middleware.ratelimit import RateLimitedProvider, RateLimiterRegistry
from model_chorus.tests.middleware_doubles import FakeClock, ScriptedProvider, request


class FrozenClock(FakeClock):
    """Records sleeps without advancing time, so concurrent waits stay visible."""

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(0)


async def test_concurrent_calls_are_spaced_by_the_limit() -> None:
    clock = FrozenClock()
    registry = RateLimiterRegistry(clock=clock.clock)
    inner = ScriptedProvider("gemini")
    provider = RateLimitedProvider(inner, limiter=registry.limiter("gemini", 30))

    await asyncio.gather(*(provider.generate(request()) for _ in range(3)))

    assert clock.sleeps == [2.0, 4.0]  # the first goes at once; 30/min = one per 2 s
    assert inner.calls == 3


async def test_chains_of_one_run_share_a_provider_budget_but_not_other_providers() -> None:
    clock = FrozenClock()
    registry = RateLimiterRegistry(clock=clock.clock)
    a = RateLimitedProvider(ScriptedProvider("gemini"), limiter=registry.limiter("gemini", 60))
    b = RateLimitedProvider(ScriptedProvider("gemini"), limiter=registry.limiter("gemini", 60))
    other = RateLimitedProvider(ScriptedProvider("codex"), limiter=registry.limiter("codex", 60))

    await a.generate(request())
    await other.generate(request())
    await b.generate(request())

    assert clock.sleeps == [1.0]


async def test_no_wait_once_the_interval_has_passed() -> None:
    clock = FakeClock()
    registry = RateLimiterRegistry(clock=clock.clock)
    provider = RateLimitedProvider(
        ScriptedProvider("gemini"), limiter=registry.limiter("gemini", 60)
    )

    await provider.generate(request())
    clock.advance(1.5)
    await provider.generate(request())

    assert clock.sleeps == []


async def test_the_wait_is_taken_from_the_attempts_time() -> None:
    clock = FakeClock()
    registry = RateLimiterRegistry(clock=clock.clock)
    inner = ScriptedProvider("gemini")
    provider = RateLimitedProvider(inner, limiter=registry.limiter("gemini", 12))  # every 5 s

    await provider.generate(request(timeout=30.0))
    await provider.generate(request(timeout=30.0))

    assert clock.sleeps == [5.0]
    assert [r.timeout for r in inner.requests] == [30.0, 25.0]


async def test_a_slot_past_the_deadline_fails_at_once_without_waiting() -> None:
    clock = FrozenClock()
    registry = RateLimiterRegistry(clock=clock.clock)
    inner = ScriptedProvider("gemini")
    provider = RateLimitedProvider(inner, limiter=registry.limiter("gemini", 1))  # every 60 s

    await provider.generate(request(timeout=10.0))
    with pytest.raises(ProviderLocalRateLimitError) as caught:
        await provider.generate(request(timeout=10.0))

    assert inner.calls == 1
    assert clock.sleeps == []
    assert "requests_per_minute" in caught.value.message
    assert "providers.gemini.requests_per_minute" in (caught.value.hint or "")
    assert not caught.value.transient  # waiting longer is the only cure, not a retry
    # The refused call did not book a slot: a patient caller gets the next one.
    await provider.generate(request(timeout=120.0))
    assert clock.sleeps == [60.0]
