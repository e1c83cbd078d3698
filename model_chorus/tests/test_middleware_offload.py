"""A database locked by another process stalls neither the event loop nor an answer.

Each test holds the real database's write lock from a second connection (as
another model-chorus process would) and shows, with asyncio-level evidence
only, that the chain keeps going: the answer arrives while the lock is still
held, or another coroutine runs while a store call waits in its thread.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from model_chorus.config import Settings
from model_chorus.errors import ProviderOverloadedError
from model_chorus.models import GenerationRequest, GenerationResponse
from model_chorus.providers.middleware import AttemptLog, build_chain
from model_chorus.providers.middleware.breaker import CircuitBreakerProvider
from model_chorus.providers.middleware.telemetry import TelemetryProvider
from model_chorus.store.database import ConversationDatabase
from model_chorus.tests.middleware_doubles import ScriptedProvider, fail, ok, request, settle
from model_chorus.workflows.runner import WorkflowRunner


@pytest.fixture
def db(tmp_path: Path) -> Iterator[ConversationDatabase]:
    database = ConversationDatabase(tmp_path / "chorus.db")
    yield database
    database.close()


@contextmanager
def write_locked(db: ConversationDatabase) -> Iterator[None]:
    """Hold the database's write lock from another connection, like another process."""
    other = sqlite3.connect(db.path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


class WatchedBreakerStore:
    """The real database's breaker methods; says when a state update starts, and whether
    one is still running (from whichever thread runs it)."""

    def __init__(self, db: ConversationDatabase) -> None:
        self.db = db
        self.loop = asyncio.get_running_loop()
        self.update_started = asyncio.Event()
        self.updating = threading.Event()

    def get_breaker(self, provider: str) -> dict[str, Any] | None:
        return self.db.get_breaker(provider)

    def set_breaker(self, provider: str, state: dict[str, Any]) -> None:
        self.db.set_breaker(provider, state)

    def update_breaker(
        self, provider: str, fn: Callable[[dict[str, Any] | None], dict[str, Any]]
    ) -> dict[str, Any]:
        self.updating.set()
        self.loop.call_soon_threadsafe(self.update_started.set)
        try:
            return self.db.update_breaker(provider, fn)
        finally:
            self.updating.clear()


async def test_a_breaker_update_waiting_for_the_lock_leaves_the_loop_running(
    db: ConversationDatabase,
) -> None:
    store = WatchedBreakerStore(db)
    inner = ScriptedProvider("gemini", fail(ProviderOverloadedError))
    provider = CircuitBreakerProvider(
        inner,
        store=store,
        failure_threshold=1,
        reset_timeout=60,
        default_timeout=30,
    )
    ticks_while_blocked = 0

    with write_locked(db):
        call = asyncio.create_task(provider.generate(request()))
        # The failure makes the breaker save its state: that write waits for the lock.
        await store.update_started.wait()
        for _ in range(5):
            await asyncio.sleep(0)
            if store.updating.is_set():
                ticks_while_blocked += 1
        assert not call.done()

    with pytest.raises(ProviderOverloadedError):
        await call
    assert ticks_while_blocked == 5
    assert db.get_breaker("gemini")["state"] == "open"  # type: ignore[index]


async def test_an_answer_is_not_held_back_by_its_call_record(
    db: ConversationDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    provider = TelemetryProvider(
        ScriptedProvider("claude", ok("hi")),
        log=AttemptLog(),
        recorder=db,
        correlation_id="run-1",
    )

    with caplog.at_level(logging.WARNING, logger="model_chorus"), write_locked(db):
        response = await provider.generate(request())
        # The answer is back while the record still waits for the lock.
        assert response.content == "hi"
        assert provider.writes.pending == 1
    await provider.writes.drain()

    assert [r.outcome for r in db.call_records()] == ["ok"]
    assert "could not record" not in caplog.text


class Answering(ScriptedProvider):
    """Says when it has answered (its chain may still be busy with the store)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.answered = asyncio.Event()

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        response = await super().generate(request)
        self.answered.set()
        return response


async def test_a_fan_out_keeps_the_loop_running_while_another_process_holds_the_lock(
    db: ConversationDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    """The calls wait for the store (one connection), but the loop serves everything else."""
    settings = Settings(cache={"enabled": True})
    tools = [Answering(name, ok(f"{name} says hi")) for name in ("claude", "gemini")]
    chains = [
        build_chain(t, settings=settings, store=db, correlation_id="run-1", attempts=AttemptLog())
        for t in tools
    ]
    ticks = 0

    with caplog.at_level(logging.WARNING, logger="model_chorus"), write_locked(db):
        fan_out = asyncio.create_task(WorkflowRunner().parallel(chains, request()))
        await asyncio.gather(*(t.answered.wait() for t in tools))
        # Both tools answered; their records wait for the lock in a worker thread.
        for _ in range(5):
            await asyncio.sleep(0)
            ticks += 1
        assert not fan_out.done()
    outcome = await fan_out
    for chain in chains:
        await settle(chain)

    assert ticks == 5
    assert sorted(r.content for r in outcome.responses) == ["claude says hi", "gemini says hi"]
    assert sorted(r.provider for r in db.call_records()) == ["claude", "gemini"]
    assert "could not" not in caplog.text
    assert all([(await c.generate(request())).cached for c in chains])
