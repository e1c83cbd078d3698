"""Retry: ride through transient faults without ever outliving the call's deadline.

The call's time budget (``request.timeout``, else the provider's configured
timeout) is an overall deadline, not a per-attempt one: each attempt is sent
with the time that is left as its ``request.timeout``, and no backoff sleep is
started unless an attempt of at least ``min_attempt_s`` still fits after it.
So ``--timeout 2`` means the call ends after 2 s at most, plus the time it takes
to kill a hung tool's process group, however many attempts were allowed.

Only ``ProviderError.transient`` errors are retried (timeout, rate limited,
overloaded, connection trouble, a crash with no output); auth, bad request,
bad output, not installed, disabled and circuit-open fail at once. Backoff is
exponential from ``initial_delay``, capped at ``max_delay``, plus a random
``[0, jitter]`` so concurrent runs do not retry in step.

Needs tenacity >= 8.3 (the stop reads ``RetryCallState.upcoming_sleep``).
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import replace
from typing import TYPE_CHECKING

from model_chorus.errors import ProviderError, ProviderTimeoutError
from model_chorus.events import EventKind, EventSink, WorkflowEvent, ignore_events
from model_chorus.models import GenerationRequest, GenerationResponse
from model_chorus.providers.base import ModelProvider
from model_chorus.providers.middleware.clock import SYSTEM_CLOCK, Clock
from model_chorus.providers.runner import KILL_GRACE_S

if TYPE_CHECKING:
    from tenacity import AsyncRetrying, RetryCallState

logger = logging.getLogger(__name__)

#: An attempt with less time than this left would only time out: do not start it.
MIN_ATTEMPT_S = 1.0
#: How long past the deadline a provider may take to stop (process-group kill
#: with its SIGTERM→SIGKILL grace) before the retry layer cancels it itself.
DEADLINE_GRACE_S = 2 * KILL_GRACE_S + 0.5
#: Smallest timeout passed down: providers read a timeout of 0 as "not set".
MIN_TIMEOUT_S = 0.01


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, ProviderError) and exc.transient


class RetryingProvider:
    def __init__(
        self,
        inner: ModelProvider,
        *,
        max_attempts: int,
        initial_delay: float,
        max_delay: float,
        jitter: float,
        default_timeout: float,
        events: EventSink = ignore_events,
        clock: Clock = SYSTEM_CLOCK,
        min_attempt_s: float = MIN_ATTEMPT_S,
        deadline_grace_s: float = DEADLINE_GRACE_S,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.max_attempts = max_attempts
        self.initial_delay = initial_delay
        self.max_delay = max_delay
        self.jitter = jitter
        self.default_timeout = default_timeout
        self.events = events
        self.clock = clock
        self.min_attempt_s = min_attempt_s
        self.deadline_grace_s = deadline_grace_s

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        budget = request.timeout or self.default_timeout
        deadline = self.clock.monotonic() + budget
        number = 0
        try:
            async for attempt in self._retrying(deadline):
                with attempt:
                    number = attempt.retry_state.attempt_number
                    # The first attempt gets the whole budget (what the user asked
                    # for, and what a timeout message quotes); later ones what is
                    # left, rounded down to a tenth of a second.
                    left = deadline - self.clock.monotonic()
                    timeout = (
                        budget if number == 1 else max(math.floor(left * 10) / 10, MIN_TIMEOUT_S)
                    )
                    response = await self._attempt(replace(request, timeout=timeout))
        except ProviderError as exc:
            if number > 1:
                _note_attempts(exc, number)
            raise
        return replace(response, attempts=number)

    async def _attempt(self, request: GenerationRequest) -> GenerationResponse:
        timeout = request.timeout or self.default_timeout
        try:
            # A provider honours request.timeout itself (and kills its process
            # group); this is the backstop for one that does not.
            async with asyncio.timeout(timeout + self.deadline_grace_s):
                return await self.inner.generate(request)
        except TimeoutError:
            raise ProviderTimeoutError(
                f"{self.name} did not answer within {timeout:g} s and was stopped.",
                provider=self.name,
                hint="Raise --timeout (or the provider's `timeout` in config) for long tasks.",
            ) from None

    def _retrying(self, deadline: float) -> AsyncRetrying:
        # Imported here: tenacity is not needed until the first call, and the
        # middleware package is also imported by quick commands (list-providers).
        from tenacity import (
            AsyncRetrying,
            retry_if_exception,
            wait_exponential,
            wait_random,
        )

        def stop(state: RetryCallState) -> bool:
            if state.attempt_number >= self.max_attempts:
                return True
            next_start = self.clock.monotonic() + state.upcoming_sleep
            return next_start + self.min_attempt_s > deadline

        return AsyncRetrying(
            stop=stop,
            wait=wait_exponential(multiplier=self.initial_delay, max=self.max_delay)
            + wait_random(0, self.jitter),
            retry=retry_if_exception(is_transient),
            before_sleep=self._announce,
            sleep=self.clock.sleep,
            reraise=True,
        )

    def _announce(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        reason = exc.kind if isinstance(exc, ProviderError) else type(exc).__name__
        detail = exc.message if isinstance(exc, ProviderError) else str(exc)
        delay = state.next_action.sleep if state.next_action else 0.0
        attempt = state.attempt_number + 1
        message = (
            f"{self.name}: {detail} — retrying in {delay:.1f} s "
            f"(attempt {attempt} of {self.max_attempts})"
        )
        logger.info("%s", message, extra={"provider": self.name, "reason": reason})
        self.events(
            WorkflowEvent(
                EventKind.RETRY,
                message,
                self.name,
                {"reason": reason, "delay_s": delay, "attempt": attempt},
            )
        )


def _note_attempts(exc: ProviderError, attempts: int) -> None:
    """Say in the error itself that it survived retries, so the user does not retry by hand."""
    exc.message = f"{exc.message} (gave up after {attempts} attempts)"
