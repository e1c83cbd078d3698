"""Telemetry: every attempt is logged, collected and recorded, and recording never fails a call."""

from __future__ import annotations

import asyncio
import logging

import pytest

from model_chorus.errors import ProviderAuthError
from model_chorus.models import TokenUsage
from model_chorus.providers.middleware.telemetry import AttemptLog, TelemetryProvider
from model_chorus.tests.middleware_doubles import (
    FakeClock,
    GatedProvider,
    MemoryStore,
    ScriptedProvider,
    fail,
    ok,
    request,
)


def telemetry(inner: object, log: AttemptLog, store: MemoryStore | None, clock: FakeClock):
    return TelemetryProvider(
        inner,  # type: ignore[arg-type]
        log=log,
        recorder=store,
        correlation_id="run-1",
        workflow="chat",
        clock=clock.clock,
    )


async def test_a_success_is_recorded_with_latency_tokens_and_ids() -> None:
    clock = FakeClock()
    log, store = AttemptLog(), MemoryStore()
    inner = ScriptedProvider("claude", ok("hi", takes=1.25), clock=clock, model="sonnet")

    provider = telemetry(inner, log, store, clock)
    await provider.generate(request(metadata={"thread_id": "t-1"}))
    await provider.writes.drain()

    [attempt] = log.items
    assert attempt.provider == "claude"
    assert attempt.model == "sonnet"
    assert attempt.ok
    assert attempt.latency_s == pytest.approx(1.25)
    assert attempt.usage == TokenUsage(10, 5)
    [recorded] = store.calls
    assert recorded.attempt == attempt
    assert (recorded.correlation_id, recorded.thread_id, recorded.workflow) == (
        "run-1",
        "t-1",
        "chat",
    )


async def test_a_failure_is_recorded_with_its_kind_and_still_raised() -> None:
    clock = FakeClock()
    log, store = AttemptLog(), MemoryStore()
    inner = ScriptedProvider("gemini", fail(ProviderAuthError))

    provider = telemetry(inner, log, store, clock)
    with pytest.raises(ProviderAuthError):
        await provider.generate(request(model="flash"))
    await provider.writes.drain()

    [attempt] = log.items
    assert attempt.outcome == "auth_error"
    assert attempt.model == "flash"
    assert attempt.error_message == "gemini failed (auth_error)"
    assert store.calls[0].thread_id is None


async def test_a_cancelled_attempt_is_recorded_as_cancelled() -> None:
    log, store = AttemptLog(), MemoryStore()
    inner = GatedProvider("codex")
    provider = telemetry(inner, log, store, FakeClock())
    task = asyncio.create_task(provider.generate(request()))
    await inner.started.wait()

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await provider.writes.drain()

    assert [a.outcome for a in log] == ["cancelled"]
    assert store.calls[0].attempt.outcome == "cancelled"


async def test_a_failing_store_write_does_not_fail_the_call(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log, store = AttemptLog(), MemoryStore()
    store.broken = True

    provider = telemetry(ScriptedProvider("claude"), log, store, FakeClock())
    with caplog.at_level(logging.WARNING, logger="model_chorus"):
        response = await provider.generate(request())
        await provider.writes.drain()

    assert response.content == "answer"
    assert len(log) == 1
    assert "could not record the claude call: database is locked" in caplog.text


async def test_one_log_collects_the_attempts_of_every_provider() -> None:
    clock = FakeClock()
    log = AttemptLog()
    for name in ("claude", "gemini", "claude"):
        await telemetry(ScriptedProvider(name), log, None, clock).generate(request())

    assert [a.provider for a in log] == ["claude", "gemini", "claude"]
