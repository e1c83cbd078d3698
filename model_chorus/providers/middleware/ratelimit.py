"""Rate limiter: at most ``requests_per_minute`` calls to a provider, per run.

Requests are spaced evenly (one every 60/rpm seconds) rather than allowed in
bursts: the tools' own limits are per minute *and* per second, and spacing
keeps a fan-out of several workflow steps from tripping the latter. One
``RateLimiterRegistry`` per command run is shared by all its chains, so the
concurrent calls of that run share each provider's budget. Slots are reserved
synchronously when a call arrives, which makes the limiter safe under asyncio
concurrency without a lock.

The wait counts against the call's time: the attempt goes on with what is
left of its ``request.timeout``, and an attempt whose slot lies beyond its
deadline fails at once instead of waiting in vain. That failure is a
``ProviderLocalRateLimitError``: not transient, because a retry within the same
deadline would meet the same full limit, and not held against the tool by the
breaker, because the tool was never asked.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from model_chorus.errors import ProviderLocalRateLimitError
from model_chorus.models import GenerationRequest, GenerationResponse
from model_chorus.providers.base import ModelProvider
from model_chorus.providers.middleware.clock import SYSTEM_CLOCK, Clock
from model_chorus.providers.middleware.retry import MIN_TIMEOUT_S

logger = logging.getLogger(__name__)


class RateLimiter:
    def __init__(self, requests_per_minute: float, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self.requests_per_minute = requests_per_minute
        self.interval = 60.0 / requests_per_minute
        self.clock = clock
        self._next_free: float | None = None

    def reserve(self, max_wait: float | None = None) -> float | None:
        """Book the next slot; return seconds to wait, or None if that is over ``max_wait``."""
        now = self.clock.monotonic()
        slot = now if self._next_free is None else max(now, self._next_free)
        wait = slot - now
        if max_wait is not None and wait > 0 and wait >= max_wait:
            return None
        self._next_free = slot + self.interval
        return wait


class RateLimiterRegistry:
    """One limiter per provider name, shared by every chain built with this registry."""

    def __init__(self, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self.clock = clock
        self._limiters: dict[str, RateLimiter] = {}

    def limiter(self, provider: str, requests_per_minute: float) -> RateLimiter:
        limiter = self._limiters.get(provider)
        if limiter is None or limiter.requests_per_minute != requests_per_minute:
            limiter = RateLimiter(requests_per_minute, clock=self.clock)
            self._limiters[provider] = limiter
        return limiter


class RateLimitedProvider:
    def __init__(self, inner: ModelProvider, *, limiter: RateLimiter) -> None:
        self.inner = inner
        self.name = inner.name
        self.limiter = limiter

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        wait = self.limiter.reserve(request.timeout)
        if wait is None:
            raise ProviderLocalRateLimitError(
                f"{self.name} could not be called within {request.timeout:g} s: its "
                f"requests_per_minute limit ({self.limiter.requests_per_minute:g}) "
                "has no free slot before then.",
                provider=self.name,
                hint=(
                    f"Raise `providers.{self.name}.requests_per_minute` in config, "
                    "or raise --timeout."
                ),
            )
        if wait > 0:
            logger.info("%s: waiting %.1f s for a rate-limit slot", self.name, wait)
            await self.limiter.clock.sleep(wait)
            if request.timeout is not None:
                request = replace(request, timeout=max(request.timeout - wait, MIN_TIMEOUT_S))
        return await self.inner.generate(request)
