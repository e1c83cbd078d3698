"""Telemetry: one ``Attempt`` per call that reached the tool, logged and recorded.

It sits innermost in the chain so that every retry is its own record with its
own latency. Recording is best effort: the store write runs in a worker thread
and is not awaited (``offload.BackgroundWrites``), so a database locked by
another process neither blocks the event loop nor delays the answer — which,
this deep inside the retry layer's deadline, could otherwise turn a good answer
into a timeout. A failing write is logged and never turns an answer into an error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

from model_chorus.errors import ProviderError
from model_chorus.models import Attempt, GenerationRequest, GenerationResponse, TokenUsage
from model_chorus.providers.base import ModelProvider
from model_chorus.providers.middleware.clock import SYSTEM_CLOCK, Clock
from model_chorus.providers.middleware.offload import BackgroundWrites
from model_chorus.providers.middleware.stores import CallRecorder

logger = logging.getLogger(__name__)

#: Outcome of an attempt that was cancelled (a ``first`` loser, Ctrl-C).
CANCELLED = "cancelled"
#: Request metadata key a workflow sets so call records link to its thread.
THREAD_ID_KEY = "thread_id"


class AttemptLog:
    """Every attempt of one command run, across all providers, in the order they ended.

    One instance is shared by all chains of a run so the result can list them.
    """

    def __init__(self) -> None:
        self._attempts: list[Attempt] = []

    def add(self, attempt: Attempt) -> None:
        self._attempts.append(attempt)

    @property
    def items(self) -> list[Attempt]:
        return list(self._attempts)

    def __len__(self) -> int:
        return len(self._attempts)

    def __iter__(self) -> Iterator[Attempt]:
        return iter(list(self._attempts))


class TelemetryProvider:
    def __init__(
        self,
        inner: ModelProvider,
        *,
        log: AttemptLog,
        recorder: CallRecorder | None,
        correlation_id: str,
        workflow: str | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.log = log
        self.recorder = recorder
        self.correlation_id = correlation_id
        self.workflow = workflow
        self.clock = clock
        #: Call records still being written; ``await writes.drain()`` to wait for them.
        self.writes = BackgroundWrites(logger)

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        started = self.clock.monotonic()
        try:
            response = await self.inner.generate(request)
        except ProviderError as exc:
            self._finish(request, exc.kind, started, error=exc.message)
            raise
        except asyncio.CancelledError:
            self._finish(request, CANCELLED, started, error="cancelled")
            raise
        except Exception as exc:
            # A bug in a provider: still visible in the records, then it propagates.
            self._finish(request, "internal_error", started, error=f"{type(exc).__name__}: {exc}")
            raise
        self._finish(request, "ok", started, model=response.model, usage=response.usage)
        return response

    def _finish(
        self,
        request: GenerationRequest,
        outcome: str,
        started: float,
        *,
        error: str | None = None,
        model: str | None = None,
        usage: TokenUsage | None = None,
    ) -> None:
        attempt = Attempt(
            provider=self.name,
            model=model or request.model,
            outcome=outcome,
            latency_s=max(self.clock.monotonic() - started, 0.0),
            error_message=error,
            usage=usage or TokenUsage(),
        )
        self.log.add(attempt)
        extra = {
            "provider": self.name,
            "outcome": outcome,
            "latency_ms": round(attempt.latency_s * 1000, 1),
            "correlation_id": self.correlation_id,
        }
        if attempt.ok:
            logger.info("%s answered in %.2f s", self.name, attempt.latency_s, extra=extra)
        else:
            logger.info("%s attempt failed: %s (%s)", self.name, outcome, error, extra=extra)
        if self.recorder is None:
            return
        thread_id = request.metadata.get(THREAD_ID_KEY)
        recorder = self.recorder
        self.writes.submit(
            lambda: recorder.record_call(
                attempt,
                correlation_id=self.correlation_id,
                thread_id=thread_id if isinstance(thread_id, str) else None,
                workflow=self.workflow,
            ),
            what=f"record the {self.name} call",
        )
