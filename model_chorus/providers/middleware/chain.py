"""One middleware chain per provider, built from config.

Order, outermost first, and why::

    Cache → CircuitBreaker → Retry (overall deadline) → RateLimit → Telemetry → provider

* **Cache** outermost: a hit needs no tool at all, so it must not be refused
  by an open breaker, retried, rate-limited or recorded as a call.
* **CircuitBreaker** outside Retry: it judges *calls*, not attempts. A call
  that failed after all its retries is one failure; a rate-limit blip that
  the retry absorbed is none. When it is open, nothing below runs. A timeout
  counts only when the call had the provider's configured timeout: a user's
  shorter ``--timeout`` is about the user's patience, not the tool's health,
  and must not open the breaker every later run shares. ``--no-breaker``
  keeps the layer but stops it refusing (outcomes are still recorded, so a
  success closes an open breaker); ``breaker.enabled = false`` drops it.
* **Retry** owns the call's deadline (``request.timeout`` or the provider's
  configured timeout) and gives each attempt the time that is left, so the
  whole chain stays within the timeout the user asked for.
* **RateLimit** inside Retry: every attempt is a request to the tool and must
  take its slot; its wait is deducted from the attempt's time.
* **Telemetry** innermost: one record per attempt that reached the tool,
  with that attempt's own latency and outcome.

No layer touches the database on the event loop: cache lookups and breaker
state run in a worker thread, and call records and new cache entries are
written in the background without being awaited (``offload.py``). A database
locked by another process therefore never stalls the loop, so the other calls
of a parallel fan-out keep running; a call that needs the store waits for it
(the store has one connection, so its reads queue behind pending writes), but
an answer is never held back by its own call record.

No retry storm — the number of attempts is bounded when every tool is down:

* one call makes at most ``retry.max_attempts`` attempts, and none that
  would start past its deadline;
* a request with fallbacks (``sequential``) makes at most
  ``len(providers) × max_attempts`` attempts;
* within one run the breaker opens after ``breaker.failure_threshold`` failed
  calls to a provider, so a workflow with many steps makes at most
  ``failure_threshold × max_attempts`` attempts per provider (plus calls that
  were already in flight when it opened);
* later runs make **no** attempt to an open provider until
  ``breaker.reset_timeout`` has passed, then a single probe call.

With the defaults (3 attempts, threshold 3, 60 s reset) and all four tools
down, one ``chat`` with three fallbacks makes at most 12 attempts; after three
such commands every breaker is open and the next ones make none for a minute.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from model_chorus.events import EventSink, ignore_events
from model_chorus.providers.base import ModelProvider
from model_chorus.providers.middleware.breaker import CircuitBreakerProvider
from model_chorus.providers.middleware.cache import CachedProvider
from model_chorus.providers.middleware.clock import SYSTEM_CLOCK, Clock
from model_chorus.providers.middleware.ratelimit import RateLimitedProvider, RateLimiterRegistry
from model_chorus.providers.middleware.retry import RetryingProvider
from model_chorus.providers.middleware.stores import ChainStore
from model_chorus.providers.middleware.telemetry import AttemptLog, TelemetryProvider

if TYPE_CHECKING:
    from model_chorus.config import Settings


def build_chain(
    provider: ModelProvider,
    *,
    settings: Settings,
    store: ChainStore | None,
    correlation_id: str,
    attempts: AttemptLog,
    workflow: str | None = None,
    use_breaker: bool = True,
    use_cache: bool | None = None,
    events: EventSink | None = None,
    rate_limiter_registry: RateLimiterRegistry | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> ModelProvider:
    """Wrap ``provider`` in its middleware.

    ``use_breaker=False`` is ``--no-breaker``: an open breaker does not refuse,
    but the call's outcome still updates it (a success closes it).
    ``breaker.enabled = false`` in config means no breaker at all: no refusal
    and no bookkeeping. ``use_cache`` None follows ``cache.enabled``,
    a bool (``--cache``) overrides it. Pass one ``rate_limiter_registry`` and
    one ``attempts`` log to every chain of a command run so they share the
    per-provider budget and the attempt list. Without a store there is no
    breaker, no cache and no call records (library use).
    """
    name = provider.name
    timeout = settings.timeout_for(name, workflow)
    chain: ModelProvider = TelemetryProvider(
        provider,
        log=attempts,
        recorder=store,
        correlation_id=correlation_id,
        workflow=workflow,
        clock=clock,
    )
    rpm = settings.provider(name).requests_per_minute
    if rpm:
        registry = rate_limiter_registry or RateLimiterRegistry(clock=clock)
        chain = RateLimitedProvider(chain, limiter=registry.limiter(name, rpm))
    retry = settings.retry
    chain = RetryingProvider(
        chain,
        max_attempts=retry.max_attempts,
        initial_delay=retry.initial_delay,
        max_delay=retry.max_delay,
        jitter=retry.jitter,
        default_timeout=timeout,
        events=events or ignore_events,
        clock=clock,
    )
    if store is not None and settings.breaker.enabled:
        chain = CircuitBreakerProvider(
            chain,
            store=store,
            failure_threshold=settings.breaker.failure_threshold,
            reset_timeout=settings.breaker.reset_timeout,
            default_timeout=timeout,
            enforce=use_breaker,
            clock=clock,
        )
    cache_on = settings.cache.enabled if use_cache is None else use_cache
    if store is not None and cache_on:
        chain = CachedProvider(
            chain,
            store=store,
            ttl_s=settings.cache.ttl_seconds,
            default_model=settings.provider(name).model,
        )
    return chain


def chain_layers(provider: ModelProvider) -> list[str]:
    """Class names from the outermost wrapper down to the provider (for doctor and tests)."""
    layers = []
    current: object = provider
    while current is not None:
        layers.append(type(current).__name__)
        current = getattr(current, "inner", None)
    return layers
