"""WorkflowRunner: how a workflow calls several providers.

Three execution policies, used by every workflow:

* ``sequential`` — the primary, then each fallback in order, until one answers.
* ``parallel`` — all at once; gather what answers (partial results allowed),
  and require a minimum number of successes.
* ``first`` — all at once; take the first good answer(s) and cancel the rest
  (cancellation kills their process groups, see ``providers/runner.py``).
  A provider cancelled because the race was won did not fail: it is in
  neither list of the outcome.

Providers reaching the runner are already wrapped in their middleware chain,
so retries and per-provider deadlines happen below this layer; the runner only
decides *which* providers to ask and what to do with their outcomes.

Cancellation (Ctrl-C cancels the command's task) reaches every provider call
the runner started, and the runner waits for them to finish cancelling — that
is when their process groups are killed — before the cancellation goes on up.
So no tool outlives an interrupted command.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from model_chorus.errors import (
    AllProvidersFailedError,
    NotEnoughAnswersError,
    ProviderError,
)
from model_chorus.events import EventKind, EventSink, WorkflowEvent, ignore_events
from model_chorus.models import GenerationRequest, GenerationResponse, ProviderFailure
from model_chorus.providers.base import ModelProvider

RequestFor = GenerationRequest | Callable[[ModelProvider], GenerationRequest]
_CallTask = asyncio.Task[GenerationResponse | ProviderError]


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
        raise NotEnoughAnswersError(
            self.errors, answered=len(self.responses), needed=min_successes, what=what
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
                failed = outcome.errors[-1]
                self._emit(
                    EventKind.FALLBACK,
                    f"{failed.provider} failed ({failed.kind}); falling back to {provider.name}",
                    provider.name,
                )
            result = await self._call(provider, request)
            if isinstance(result, GenerationResponse):
                outcome.responses.append(result)
                break
            outcome.errors.append(result)
        outcome.duration_s = time.monotonic() - started
        return outcome

    async def parallel(self, providers: Sequence[ModelProvider], request: RequestFor) -> RunOutcome:
        """Ask all providers at once and keep every answer (each call has its own deadline).

        Responses keep the order of ``providers`` (not completion order), so
        results are stable from run to run.
        """
        started = time.monotonic()
        if not providers:
            return RunOutcome()
        tasks = [self._start(p, request) for p in providers]
        try:
            await asyncio.wait(tasks)
        except BaseException:
            await _cancel_all(tasks)
            raise
        outcome = RunOutcome()
        for task in tasks:
            result = task.result()
            if isinstance(result, GenerationResponse):
                outcome.responses.append(result)
            else:
                outcome.errors.append(result)
        outcome.duration_s = time.monotonic() - started
        return outcome

    async def first(
        self,
        providers: Sequence[ModelProvider],
        request: RequestFor,
        *,
        accept: Callable[[GenerationResponse], bool] = lambda response: True,
        needed: int = 1,
    ) -> RunOutcome:
        """Start all providers; return once ``needed`` answers ``accept`` takes have arrived.

        The others are cancelled. Responses are in the order they arrived
        (provider order among those arriving together); an answer ``accept``
        rejects (an empty one, say) is kept but does not end the race.
        """
        started = time.monotonic()
        outcome = RunOutcome()
        order = {self._start(p, request): i for i, p in enumerate(providers)}
        pending = set(order)
        try:
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in sorted(done, key=order.__getitem__):
                    result = task.result()
                    if isinstance(result, GenerationResponse):
                        outcome.responses.append(result)
                    else:
                        outcome.errors.append(result)
                if sum(1 for r in outcome.responses if accept(r)) >= needed:
                    break
        finally:
            await _cancel_all(list(pending))
        outcome.duration_s = time.monotonic() - started
        return outcome

    def _start(self, provider: ModelProvider, request: RequestFor) -> _CallTask:
        return asyncio.create_task(self._call(provider, request), name=f"ask {provider.name}")

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
        how = "from the cache" if response.cached else f"in {response.latency_s:.1f}s"
        self._emit(EventKind.PROVIDER_FINISHED, f"{provider.name} answered {how}", provider.name)
        return response

    def _emit(self, kind: EventKind, message: str, provider: str | None = None) -> None:
        self.events(WorkflowEvent(kind, message, provider))


async def _cancel_all(tasks: Sequence[_CallTask]) -> None:
    """Cancel and wait until each call has finished cancelling (its processes are gone).

    ``asyncio.wait`` rather than awaiting each task: it neither raises the
    tasks' own CancelledError nor swallows a new cancellation of the caller.
    """
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks)
    for task in tasks:
        if not task.cancelled():
            # Retrieve outcomes so asyncio does not log "exception never retrieved".
            task.exception()
