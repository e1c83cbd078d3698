"""The assembled chain: order, switches, and the bound on attempts when every tool is down."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from model_chorus.config import Settings
from model_chorus.errors import (
    ProviderLocalRateLimitError,
    ProviderOverloadedError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)
from model_chorus.events import EventKind, WorkflowEvent
from model_chorus.providers.middleware import (
    AttemptLog,
    BreakerState,
    ChainStore,
    RateLimiterRegistry,
    breaker_status,
    build_chain,
    chain_layers,
)
from model_chorus.tests.middleware_doubles import (
    FakeClock,
    MemoryStore,
    ScriptedProvider,
    fail,
    ok,
    request,
    settle,
    times_out,
)
from model_chorus.workflows.runner import WorkflowRunner

PROVIDERS = ("claude", "gemini", "codex", "cursor-agent")


def settings(**overrides: Any) -> Settings:
    base: dict[str, Any] = {"retry": {"max_attempts": 3, "jitter": 0}}
    base.update(overrides)
    return Settings(**base)


def chain(
    inner: ScriptedProvider,
    cfg: Settings,
    store: ChainStore | None,
    clock: FakeClock,
    log: AttemptLog | None = None,
    **kwargs: Any,
):
    return build_chain(
        inner,
        settings=cfg,
        store=store,
        correlation_id="run-1",
        attempts=log if log is not None else AttemptLog(),
        clock=clock.clock,
        **kwargs,
    )


def test_default_order_and_switches() -> None:
    clock, store = FakeClock(), MemoryStore()
    inner = ScriptedProvider("gemini")

    assert chain_layers(chain(inner, settings(), store, clock)) == [
        "CircuitBreakerProvider",
        "RetryingProvider",
        "TelemetryProvider",
        "ScriptedProvider",
    ]
    everything = settings(
        cache={"enabled": True}, providers={"gemini": {"requests_per_minute": 10}}
    )
    assert chain_layers(chain(inner, everything, store, clock)) == [
        "CachedProvider",
        "CircuitBreakerProvider",
        "RetryingProvider",
        "RateLimitedProvider",
        "TelemetryProvider",
        "ScriptedProvider",
    ]
    # --cache/--no-cache override config; --no-breaker keeps the (non-refusing) breaker;
    # breaker.enabled=false drops it; no store, no breaker/cache.
    bypass = chain(inner, everything, store, clock, use_breaker=False, use_cache=False)
    assert chain_layers(bypass)[0] == "CircuitBreakerProvider"
    assert not bypass.enforce
    assert chain_layers(chain(inner, settings(breaker={"enabled": False}), store, clock))[0] == (
        "RetryingProvider"
    )
    assert chain_layers(chain(inner, settings(), store, clock, use_cache=True))[0] == (
        "CachedProvider"
    )
    assert chain_layers(chain(inner, everything, None, clock)) == [
        "RetryingProvider",
        "RateLimitedProvider",
        "TelemetryProvider",
        "ScriptedProvider",
    ]


async def test_every_attempt_is_logged_and_recorded_and_the_retry_announced() -> None:
    clock, store, log = FakeClock(), MemoryStore(), AttemptLog()
    events: list[WorkflowEvent] = []
    inner = ScriptedProvider("codex", fail(ProviderOverloadedError), ok("done"), clock=clock)

    provider = chain(inner, settings(), store, clock, log, workflow="chat", events=events.append)
    response = await provider.generate(request())
    await settle(provider)

    assert response.content == "done"
    assert response.attempts == 2
    assert [a.outcome for a in log] == ["overloaded", "ok"]
    assert [c.attempt.outcome for c in store.calls] == ["overloaded", "ok"]
    assert {c.correlation_id for c in store.calls} == {"run-1"}
    assert {c.workflow for c in store.calls} == {"chat"}
    assert [e.kind for e in events] == [EventKind.RETRY]
    # Absorbed by the retry, so not a failure as far as the breaker is concerned.
    status = breaker_status(store, "codex", settings(), clock=clock.clock)
    assert (status.state, status.failures) == (BreakerState.CLOSED, 0)


async def test_the_configured_timeout_bounds_the_whole_call() -> None:
    clock, store, log = FakeClock(), MemoryStore(), AttemptLog()
    cfg = settings(providers={"gemini": {"timeout": 2}}, retry={"max_attempts": 5, "jitter": 0})
    start = clock.now

    with pytest.raises(ProviderTimeoutError):
        await chain(
            ScriptedProvider("gemini", times_out(), clock=clock), cfg, store, clock, log
        ).generate(request())

    assert clock.now - start == pytest.approx(2.0)
    assert len(log) == 1


async def test_a_cache_hit_is_served_even_while_the_breaker_is_open() -> None:
    clock, store = FakeClock(), MemoryStore(FakeClock())
    cfg = settings(breaker={"failure_threshold": 1})
    working = ScriptedProvider("claude", ok("remembered"))
    await chain(working, cfg, store, clock, use_cache=True).generate(request("q"))
    down = ScriptedProvider("claude", fail(ProviderOverloadedError), clock=clock)
    with pytest.raises(ProviderOverloadedError):
        await chain(down, cfg, store, clock, use_cache=True).generate(request("other"))
    assert store.breakers["claude"]["state"] == "open"

    response = await chain(down, cfg, store, clock, use_cache=True).generate(request("q"))

    assert response.cached
    assert response.content == "remembered"


async def test_no_retry_storm_when_every_provider_is_down() -> None:
    """The bound documented in chain.py: max_attempts × providers per request, then none."""
    clock, store = FakeClock(), MemoryStore()
    cfg = settings(breaker={"failure_threshold": 3, "reset_timeout": 60})
    tools = {name: ScriptedProvider(name, fail(ProviderOverloadedError)) for name in PROVIDERS}

    per_run = []
    for _ in range(4):  # four `model-chorus chat` commands, primary + three fallbacks
        log = AttemptLog()
        registry = RateLimiterRegistry(clock=clock.clock)
        chains = [
            chain(tool, cfg, store, clock, log, rate_limiter_registry=registry)
            for tool in tools.values()
        ]
        outcome = await WorkflowRunner().sequential(chains, request())
        assert outcome.responses == []
        per_run.append(len(log))
        clock.advance(1)

    assert per_run == [12, 12, 12, 0]
    assert {e.kind for e in outcome.errors} == {"circuit_open"}
    assert sum(t.calls for t in tools.values()) == 36


async def test_within_one_run_the_breaker_caps_a_many_step_workflow() -> None:
    clock, store, log = FakeClock(), MemoryStore(), AttemptLog()
    cfg = settings(breaker={"failure_threshold": 3})
    tool = ScriptedProvider("gemini", fail(ProviderTimeoutError, takes=1.0), clock=clock)
    provider = chain(tool, cfg, store, clock, log)

    errors = []
    for _ in range(10):  # ten steps of one thinkdeep run
        outcome = await WorkflowRunner().sequential([provider], request())
        errors.extend(outcome.errors)

    assert len(log) == 3 * 3
    assert [e.kind for e in errors].count("circuit_open") == 7


async def test_with_the_real_database_the_next_process_sees_the_open_breaker(
    tmp_path: Path,
) -> None:
    from model_chorus.store.database import ConversationDatabase

    path = tmp_path / "chorus.db"
    clock = FakeClock()
    cfg = settings(breaker={"failure_threshold": 2}, cache={"enabled": True})
    down = ScriptedProvider("gemini", fail(ProviderOverloadedError))
    with ConversationDatabase(path) as first_process:
        for prompt in ("a", "b"):
            with pytest.raises(ProviderOverloadedError):
                await (failing := chain(down, cfg, first_process, clock)).generate(request(prompt))
            await settle(failing)
        up = ScriptedProvider("claude", ok("cached answer"))
        await (answering := chain(up, cfg, first_process, clock)).generate(request("q"))
        await settle(answering)

    with ConversationDatabase(path) as second_process:
        with pytest.raises(ProviderUnavailableError):
            await chain(down, cfg, second_process, clock).generate(request("c"))
        status = breaker_status(second_process, "gemini", cfg, clock=clock.clock)
        hit = await chain(up, cfg, second_process, clock).generate(request("q"))
        records = second_process.call_records()

    assert down.calls == 6  # two calls of three attempts, none in the second process
    assert status.state is BreakerState.OPEN
    assert hit.cached and up.calls == 1
    assert [r.outcome for r in records] == ["overloaded"] * 6 + ["ok"]
    assert {r.correlation_id for r in records} == {"run-1"}


async def test_no_breaker_success_closes_an_open_breaker_for_the_next_plain_run() -> None:
    clock, store = FakeClock(), MemoryStore()
    cfg = settings(breaker={"failure_threshold": 1})
    with pytest.raises(ProviderOverloadedError):
        await chain(
            ScriptedProvider("claude", fail(ProviderOverloadedError)), cfg, store, clock
        ).generate(request())
    assert store.breakers["claude"]["state"] == "open"

    up = ScriptedProvider("claude", ok("hi"))
    bypassed = await chain(up, cfg, store, clock, use_breaker=False).generate(request())
    plain = await chain(up, cfg, store, clock).generate(request())

    assert (bypassed.content, plain.content) == ("hi", "hi")
    assert up.calls == 2
    assert store.breakers["claude"]["state"] == "closed"


async def test_no_breaker_failures_still_count() -> None:
    clock, store = FakeClock(), MemoryStore()
    cfg = settings(breaker={"failure_threshold": 2})
    down = ScriptedProvider("gemini", fail(ProviderOverloadedError))
    for _ in range(2):
        with pytest.raises(ProviderOverloadedError):
            await chain(down, cfg, store, clock, use_breaker=False).generate(request())

    with pytest.raises(ProviderUnavailableError):
        await chain(down, cfg, store, clock).generate(request())
    assert down.calls == 2 * 3


async def test_breaker_disabled_in_config_keeps_no_books() -> None:
    clock, store = FakeClock(), MemoryStore()
    cfg = settings(breaker={"enabled": False, "failure_threshold": 1})
    down = ScriptedProvider("gemini", fail(ProviderOverloadedError))
    for _ in range(3):
        with pytest.raises(ProviderOverloadedError):
            await chain(down, cfg, store, clock).generate(request())

    assert down.calls == 3 * 3
    assert "gemini" not in store.breakers


async def test_a_full_local_rate_limit_is_not_retried_nor_held_against_the_tool() -> None:
    clock, store, log = FakeClock(), MemoryStore(), AttemptLog()
    events: list[WorkflowEvent] = []
    cfg = settings(
        providers={"gemini": {"requests_per_minute": 1, "timeout": 5}},
        breaker={"failure_threshold": 1},
    )
    registry = RateLimiterRegistry(clock=clock.clock)
    inner = ScriptedProvider("gemini")
    provider = chain(
        inner, cfg, store, clock, log, rate_limiter_registry=registry, events=events.append
    )
    await provider.generate(request())

    with pytest.raises(ProviderLocalRateLimitError) as caught:
        await provider.generate(request())

    assert caught.value.kind == "rate_limited_local"
    assert not caught.value.transient
    assert "requests_per_minute" in (caught.value.hint or "")
    assert events == []  # no "retrying in ..." for a limit that cannot clear in time
    assert clock.sleeps == []
    assert inner.calls == 1 and len(log) == 1
    status = breaker_status(store, "gemini", cfg, clock=clock.clock)
    assert (status.state, status.failures) == (BreakerState.CLOSED, 0)
