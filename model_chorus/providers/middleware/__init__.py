"""Provider middleware: wrappers with the provider interface, composed by ``build_chain``.

See ``chain.py`` for the order and the bound on attempts. Importing this
package stays cheap (tenacity loads on the first call), so quick commands
like ``list-providers`` can use ``breaker_status``.
"""

from model_chorus.providers.middleware.breaker import (
    BreakerState,
    BreakerStatus,
    CircuitBreakerProvider,
    breaker_status,
    reset_breaker,
)
from model_chorus.providers.middleware.cache import CachedProvider, cache_key
from model_chorus.providers.middleware.chain import build_chain, chain_layers
from model_chorus.providers.middleware.clock import SYSTEM_CLOCK, Clock
from model_chorus.providers.middleware.ratelimit import (
    RateLimitedProvider,
    RateLimiter,
    RateLimiterRegistry,
)
from model_chorus.providers.middleware.retry import RetryingProvider, is_transient
from model_chorus.providers.middleware.stores import (
    BreakerStore,
    CallRecorder,
    ChainStore,
    ResponseCacheStore,
)
from model_chorus.providers.middleware.telemetry import AttemptLog, TelemetryProvider

__all__ = [
    "SYSTEM_CLOCK",
    "AttemptLog",
    "BreakerState",
    "BreakerStatus",
    "BreakerStore",
    "CachedProvider",
    "CallRecorder",
    "ChainStore",
    "CircuitBreakerProvider",
    "Clock",
    "RateLimitedProvider",
    "RateLimiter",
    "RateLimiterRegistry",
    "ResponseCacheStore",
    "RetryingProvider",
    "TelemetryProvider",
    "breaker_status",
    "build_chain",
    "cache_key",
    "chain_layers",
    "is_transient",
    "reset_breaker",
]
