"""Test doubles for the middleware tests: virtual time, a scripted provider, a store.

``ScriptedProvider`` stands in for the *provider interface* (not for a tool):
it answers or raises what its script says, optionally "taking" virtual time.
``MemoryStore`` has the store methods the middleware uses, with the same
contract as ``ConversationDatabase`` (atomic ``update_breaker``, TTL cache).
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from model_chorus.errors import ProviderError, ProviderTimeoutError, StoreError
from model_chorus.models import Attempt, GenerationRequest, GenerationResponse, TokenUsage
from model_chorus.providers.middleware.clock import Clock
from model_chorus.providers.middleware.offload import BackgroundWrites


class FakeClock:
    """Virtual time: ``sleep`` advances it instantly and is recorded."""

    def __init__(self, start: float = 1_000.0, wall_start: float = 1_800_000_000.0) -> None:
        self.now = start
        self.wall_offset = wall_start - start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.now + self.wall_offset

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)

    @property
    def clock(self) -> Clock:
        return Clock(monotonic=self.monotonic, wall=self.wall, sleep=self.sleep)


@dataclass
class Step:
    """One scripted answer: ``error`` to raise (a class), or ``content`` to return."""

    content: str = "answer"
    error: type[ProviderError] | None = None
    #: Virtual seconds the call takes; None with a timeout error = the whole timeout.
    takes: float | None = 0.0
    usage: TokenUsage = field(default_factory=lambda: TokenUsage(10, 5))


def ok(content: str = "answer", takes: float = 0.0) -> Step:
    return Step(content=content, takes=takes)


def fail(error: type[ProviderError], takes: float = 0.0) -> Step:
    return Step(error=error, takes=takes)


def times_out() -> Step:
    """Behaves like a CLI provider that hits its ``request.timeout``."""
    return Step(error=ProviderTimeoutError, takes=None)


class ScriptedProvider:
    """Plays its steps in order, repeating the last one; remembers every request."""

    def __init__(
        self,
        name: str,
        *steps: Step,
        clock: FakeClock | None = None,
        model: str | None = None,
    ) -> None:
        self.name = name
        self.steps = list(steps) or [ok()]
        self.clock = clock
        self.model = model
        self.requests: list[GenerationRequest] = []

    @property
    def calls(self) -> int:
        return len(self.requests)

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        step = self.steps[min(len(self.requests), len(self.steps) - 1)]
        self.requests.append(request)
        takes = step.takes if step.takes is not None else (request.timeout or 0.0)
        if self.clock is not None:
            self.clock.advance(takes)
        await asyncio.sleep(0)
        if step.error is not None:
            raise step.error(f"{self.name} failed ({step.error.kind})", provider=self.name)
        return GenerationResponse(
            content=step.content,
            provider=self.name,
            model=request.model or self.model,
            usage=step.usage,
            latency_s=takes,
        )


class GatedProvider:
    """Answers only when ``release()`` is called; records whether it was cancelled."""

    def __init__(self, name: str, content: str = "answer") -> None:
        self.name = name
        self.content = content
        self.started = asyncio.Event()
        self.gate = asyncio.Event()
        self.cancelled = False
        self.calls = 0

    def release(self) -> None:
        self.gate.set()

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        self.calls += 1
        self.started.set()
        try:
            await self.gate.wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        return GenerationResponse(content=self.content, provider=self.name)


@dataclass
class RecordedCall:
    attempt: Attempt
    correlation_id: str
    thread_id: str | None
    workflow: str | None


class MemoryStore:
    """The store slices the middleware uses, in memory; ``broken`` makes every method fail."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.clock = clock
        self.breakers: dict[str, dict[str, Any]] = {}
        self.calls: list[RecordedCall] = []
        self.cache: dict[str, tuple[str, float]] = {}
        self.cache_puts: list[tuple[str, float]] = []
        self.broken = False

    def _check(self) -> None:
        if self.broken:
            raise StoreError("database is locked")

    def _now(self) -> float:
        return self.clock.wall() if self.clock else 0.0

    def get_breaker(self, provider: str) -> dict[str, Any] | None:
        self._check()
        state = self.breakers.get(provider)
        return copy.deepcopy(state)

    def set_breaker(self, provider: str, state: dict[str, Any]) -> None:
        self._check()
        self.breakers[provider] = copy.deepcopy(state)

    def update_breaker(
        self, provider: str, fn: Callable[[dict[str, Any] | None], dict[str, Any]]
    ) -> dict[str, Any]:
        self._check()
        new = fn(copy.deepcopy(self.breakers.get(provider)))
        self.breakers[provider] = copy.deepcopy(new)
        return new

    def record_call(
        self,
        attempt: Attempt,
        *,
        correlation_id: str,
        thread_id: str | None = None,
        workflow: str | None = None,
    ) -> None:
        self._check()
        self.calls.append(RecordedCall(attempt, correlation_id, thread_id, workflow))

    def cache_get(self, key: str) -> str | None:
        self._check()
        entry = self.cache.get(key)
        if entry is None or entry[1] <= self._now():
            return None
        return entry[0]

    def cache_put(self, key: str, value: str, *, ttl_s: float) -> None:
        self._check()
        self.cache_puts.append((key, ttl_s))
        self.cache[key] = (value, self._now() + ttl_s)


def request(prompt: str = "hello", **kwargs: Any) -> GenerationRequest:
    return GenerationRequest(prompt=prompt, **kwargs)


async def settle(provider: object) -> None:
    """Wait for the background store writes (call records, cache entries) of a whole chain."""
    current: object = provider
    while current is not None:
        writes = getattr(current, "writes", None)
        if isinstance(writes, BackgroundWrites):
            await writes.drain()
        current = getattr(current, "inner", None)
