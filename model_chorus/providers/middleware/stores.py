"""The slices of the conversation store the middleware needs, as protocols.

The middleware codes against these rather than ``store.database`` so it can be
tested with a small in-memory object and never opens SQLite itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from model_chorus.models import Attempt

BreakerRecord = dict[str, Any]


class BreakerStore(Protocol):
    def get_breaker(self, provider: str) -> BreakerRecord | None: ...

    def set_breaker(self, provider: str, state: BreakerRecord) -> None: ...

    def update_breaker(
        self, provider: str, fn: Callable[[BreakerRecord | None], BreakerRecord]
    ) -> BreakerRecord:
        """Atomic read-modify-write, also across processes sharing the database."""
        ...


class CallRecorder(Protocol):
    def record_call(
        self,
        attempt: Attempt,
        *,
        correlation_id: str,
        thread_id: str | None = None,
        workflow: str | None = None,
    ) -> None: ...


class ResponseCacheStore(Protocol):
    def cache_get(self, key: str) -> str | None: ...

    def cache_put(self, key: str, value: str, *, ttl_s: float) -> None: ...


class ChainStore(BreakerStore, CallRecorder, ResponseCacheStore, Protocol):
    """Everything ``build_chain`` may use; ``ConversationDatabase`` provides it all."""
