"""WorkflowRunner: how a workflow calls several providers.

Three execution policies, used by every workflow:

* ``sequential`` — the primary, then each fallback in order, until one answers.
* ``parallel`` — all at once; gather what answers (partial results allowed),
  and require a minimum number of successes.
* ``first`` — all at once; take the first good answer and cancel the rest
  (cancellation kills their process groups, see ``providers/runner.py``).

Providers reaching the runner are already wrapped in their middleware chain,
so retries happen below this layer; the runner only decides *which* providers
to ask and what to do with their outcomes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from model_chorus.errors import AllProvidersFailedError, ProviderError, ProviderTimeoutError
from model_chorus.models import GenerationRequest, GenerationResponse, ProviderFailure
from model_chorus.providers.base import ModelProvider
from model_chorus.workflows.events import EventKind, EventSink, WorkflowEvent, ignore_events

RequestFor = GenerationRequest | Callable[[ModelProvider], GenerationRequest]


@dataclass
class RunOutcome:
    responses: list[GenerationResponse] = field(default_factory=list)
    errors: list[ProviderError] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def failures(self) -> list[ProviderFailure]:
        return [ProviderFailure(e.provider, e.kind, e.message, e.hint) for e in self.errors]

    def require(self, min_successes: int = 1, *, what: str = "request") -> None:
        """Raise when fewer than ``min_successes`` providers answered."""
        if len(self.responses) >= min_successes:
            return
        if not self.errors:
            raise AllProvidersFailedError([], what=what)
        if len(self.responses) == 0:
            raise AllProvidersFailedError(self.errors, what=what)
        raise AllProvidersFailedError(
            self.errors,
            what=f"{what} (only {len(self.responses)} of the {min_successes} answers needed)",
        )


class WorkflowRunner:
    def __init__(self, events: EventSink = ignore_events) -> None:
        self.events = events

    async def sequential(
        self, providers: Sequence[ModelProvider], request: RequestFor
    ) -> RunOutcome:
        """Ask providers in order until one answers; later ones are fallbacks."""
        started = time.monotonic()
        outcome = RunOutcome()
        for index, provider in enumerate(providers):
            if index > 0:
                self._emit(
                    EventKind.FALLBACK,
                    f"falling back to {provider.name}",
                    provider.name,
                )
            result = await self._call(provider, request)
            if isinstance(result, GenerationResponse):
                outcome.responses.append(result)
                break
            outcome.errors.append(result)
        outcome.duration_s = time.monotonic() - started
        return outcome

    async def parallel(
        self,
        providers: Sequence[ModelProvider],
        request: RequestFor,
        *,
        timeout: float | None = None,
    ) -> RunOutcome:
        """Ask all providers at once; keep every answer that arrives within ``timeout``.

        Responses keep the order of ``providers`` (not completion order), so
        results are stable from run to run.
        """
        started = time.monotonic()
        tasks = [asyncio.ensure_future(self._call(p, request)) for p in providers]
        try:
            done, pending = await asyncio.wait(tasks, timeout=timeout)
        except BaseException:
            await _cancel_all(tasks)
            raise
        await _cancel_all(list(pending))
        outcome = RunOutcome()
        for provider, task in zip(providers, tasks, strict=True):
            if task in done:
                result = task.result()
                if isinstance(result, GenerationResponse):
                    outcome.responses.append(result)
                else:
                    outcome.errors.append(result)
            else:
                outcome.errors.append(_overall_timeout(provider.name, timeout))
        outcome.duration_s = time.monotonic() - started
        return outcome

    async def first(self, providers: Sequence[ModelProvider], request: RequestFor) -> RunOutcome:
        """Start all providers; return with the first good answer and cancel the others."""
        started = time.monotonic()
        tasks = {asyncio.ensure_future(self._call(p, request)): p for p in providers}
        outcome = RunOutcome()
        pending = set(tasks)
        try:
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    result = task.result()
                    if isinstance(result, GenerationResponse):
                        outcome.responses.append(result)
                    else:
                        outcome.errors.append(result)
                if outcome.responses:
                    break
        finally:
            await _cancel_all(list(pending))
        outcome.duration_s = time.monotonic() - started
        return outcome

    async def _call(
        self, provider: ModelProvider, request: RequestFor
    ) -> GenerationResponse | ProviderError:
        """One provider call; expected failures become values so policies can weigh them."""
        req = request(provider) if callable(request) else request
        self._emit(EventKind.PROVIDER_STARTED, f"asking {provider.name}", provider.name)
        try:
            response = await provider.generate(req)
        except ProviderError as exc:
            self._emit(EventKind.PROVIDER_FAILED, f"{provider.name}: {exc.message}", provider.name)
            return exc
        self._emit(
            EventKind.PROVIDER_FINISHED,
            f"{provider.name} answered in {response.latency_s:.1f}s",
            provider.name,
        )
        return response

    def _emit(self, kind: EventKind, message: str, provider: str | None = None) -> None:
        self.events(WorkflowEvent(kind, message, provider))


async def _cancel_all(tasks: Sequence[asyncio.Future[GenerationResponse | ProviderError]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


def _overall_timeout(provider: str, timeout: float | None) -> ProviderError:
    return ProviderTimeoutError(
        f"{provider} did not answer within the workflow's {timeout:g} s.",
        provider=provider,
    )
