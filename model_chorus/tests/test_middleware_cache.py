"""Response cache: a repeated question is answered from the database without a call."""

from __future__ import annotations

import logging

import pytest

from model_chorus.providers.middleware.cache import CachedProvider, cache_key
from model_chorus.tests.middleware_doubles import (
    FakeClock,
    MemoryStore,
    ScriptedProvider,
    ok,
    request,
)


def cached(inner: ScriptedProvider, store: MemoryStore, **kwargs: object) -> CachedProvider:
    return CachedProvider(inner, store=store, ttl_s=3600, **kwargs)  # type: ignore[arg-type]


async def test_a_repeated_request_is_served_from_the_cache_without_a_call() -> None:
    store = MemoryStore(FakeClock())
    inner = ScriptedProvider("claude", ok("first answer"), ok("second answer"), model="sonnet")
    provider = cached(inner, store)

    fresh = await provider.generate(request("What is WAL?"))
    await provider.writes.drain()
    again = await provider.generate(request("What is WAL?"))

    assert inner.calls == 1
    assert not fresh.cached
    assert again.cached
    assert again.attempts == 0
    assert (again.content, again.provider, again.model, again.usage) == (
        "first answer",
        "claude",
        "sonnet",
        fresh.usage,
    )
    assert store.cache_puts[0][1] == 3600


async def test_a_different_prompt_or_system_prompt_is_a_miss() -> None:
    store = MemoryStore(FakeClock())
    inner = ScriptedProvider("claude")
    provider = cached(inner, store)

    for asked in (request("a"), request("b"), request("a", system_prompt="be brief")):
        await provider.generate(asked)
        await provider.writes.drain()

    assert inner.calls == 3


async def test_an_expired_entry_is_a_miss() -> None:
    clock = FakeClock()
    store = MemoryStore(clock)
    inner = ScriptedProvider("claude")
    provider = cached(inner, store)

    await provider.generate(request())
    await provider.writes.drain()
    clock.advance(3601)
    await provider.generate(request())

    assert inner.calls == 2


def test_the_key_covers_provider_model_system_prompt_and_prompt() -> None:
    base = cache_key("claude", "sonnet", "sys", "prompt")
    assert base == cache_key("claude", "sonnet", "sys", "prompt")
    variants = {
        cache_key("gemini", "sonnet", "sys", "prompt"),
        cache_key("claude", "opus", "sys", "prompt"),
        cache_key("claude", "sonnet", None, "prompt"),
        cache_key("claude", "sonnet", "sys", "prompt!"),
        # No confusion between fields when text moves across a boundary.
        cache_key("claude", "sonnet", "sysprompt", ""),
    }
    assert base not in variants
    assert len(variants) == 5


async def test_the_configured_model_stands_in_for_an_unnamed_one() -> None:
    store = MemoryStore(FakeClock())
    inner = ScriptedProvider("claude")

    for default, asked in (("opus", None), ("opus", "opus"), ("sonnet", None)):
        provider = cached(inner, store, default_model=default)
        await provider.generate(request(model=asked))
        await provider.writes.drain()

    assert inner.calls == 2


async def test_a_damaged_entry_or_a_broken_store_means_a_call(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = MemoryStore(FakeClock())
    inner = ScriptedProvider("claude")
    provider = cached(inner, store)
    key = cache_key("claude", None, None, "hello")
    store.cache[key] = ("{not json", 1e12)

    with caplog.at_level(logging.WARNING, logger="model_chorus"):
        await provider.generate(request())
        store.broken = True
        response = await provider.generate(request())

    assert inner.calls == 2
    assert response.content == "answer"
    assert "damaged response-cache entry" in caplog.text
    assert "response cache unavailable" in caplog.text


async def test_an_empty_answer_is_not_cached() -> None:
    store = MemoryStore(FakeClock())
    inner = ScriptedProvider("claude", ok("  "))
    provider = cached(inner, store)

    await provider.generate(request())
    await provider.writes.drain()
    await provider.generate(request())

    assert inner.calls == 2
    assert store.cache_puts == []
