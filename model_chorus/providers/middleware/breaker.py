"""Circuit breaker: stop calling a tool that keeps failing, remembered across runs.

A CLI process lives for one command, so the state lives in the conversation
database (``update_breaker``, atomic across processes) where the next
``model-chorus`` run sees it.

* **closed** — calls go through. ``failure_threshold`` consecutive failed
  *calls* (after their retries) open it.
* **open** — calls are refused with ``ProviderUnavailableError`` until
  ``reset_timeout`` seconds have passed since it opened (or since a call that
  still got through, such as a ``--no-breaker`` one, last failed).
* **half-open** — one probe call is let through; concurrent calls are refused
  while it is out. Its success closes the breaker, its failure re-opens it.
  (The probe is a whole call, so it may use its retries.)
  A probe whose process died (Ctrl-C, crash) holds its slot only for a lease
  (the call's timeout plus a grace), then the next call probes.

What counts: the breaker tracks whether the tool is *reachable and
answering*. Transient failures (timeout, rate limited, overloaded,
connection trouble, crash with no output) count. Permanent ones (auth, bad
request, bad output, not installed, disabled) are about the user's setup or
our request, not the tool being down, so they are neutral: they neither count
nor reset the streak (a neutral probe just frees the probe slot). A success
resets the streak.

A timeout counts only when the call had the time the configuration gives the
tool (``request.timeout`` unset, or not shorter than the provider's configured
timeout). Three ``chat --timeout 0.5`` runs against a tool that answers in 3 s
say nothing about the tool, and the breaker is shared by every later run, so a
timeout under a shorter per-request deadline is neutral.

A closed breaker is only read on admission; the store is written when the
state changes. Store calls run in a worker thread (``offload.off_loop``), so a
database locked by another process delays this call, never the event loop. If
the store itself fails, the breaker lets the call through and logs a warning:
losing the breaker is better than losing the answer.

Two ways to turn it off, on purpose different:

* ``enforce=False`` (``--no-breaker``) skips only the *refusal*: the call goes
  through whatever the state, but its outcome is still kept — a success closes
  an open breaker (the tool just answered), a counted failure still adds to
  the streak. So one ``--no-breaker`` run that works un-sticks the next plain
  run instead of leaving it refused.
* ``breaker.enabled = false`` in config builds no breaker at all
  (``chain.build_chain``): no refusal and no bookkeeping.

``reset_breaker`` closes a breaker by hand (``list-providers --reset-breaker
NAME``), for a user who fixed the tool and does not want to wait out
``breaker.reset_timeout``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from model_chorus.errors import ProviderError, ProviderTimeoutError, ProviderUnavailableError
from model_chorus.models import GenerationRequest, GenerationResponse
from model_chorus.providers.base import ModelProvider
from model_chorus.providers.middleware.clock import SYSTEM_CLOCK, Clock
from model_chorus.providers.middleware.offload import off_loop
from model_chorus.providers.middleware.retry import DEADLINE_GRACE_S
from model_chorus.providers.middleware.stores import BreakerRecord, BreakerStore

if TYPE_CHECKING:
    from model_chorus.config import Settings

logger = logging.getLogger(__name__)

#: Added to a probe's own timeout before another call may take over its slot.
PROBE_LEASE_GRACE_S = DEADLINE_GRACE_S + 5.0


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class _Record:
    """Typed view of the stored dict; unknown or damaged data reads as closed."""

    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    opened_at: float | None = None
    probe_until: float | None = None
    last_error: str | None = None

    @classmethod
    def load(cls, data: BreakerRecord | None) -> _Record:
        if not data:
            return cls()
        try:
            return cls(
                state=BreakerState(data.get("state", BreakerState.CLOSED)),
                failures=int(data.get("failures", 0)),
                opened_at=_float_or_none(data.get("opened_at")),
                probe_until=_float_or_none(data.get("probe_until")),
                last_error=data.get("last_error"),
            )
        except (TypeError, ValueError):
            return cls()

    def dump(self) -> BreakerRecord:
        return {
            "state": str(self.state),
            "failures": self.failures,
            "opened_at": self.opened_at,
            "probe_until": self.probe_until,
            "last_error": self.last_error,
        }


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


# --- transitions (pure, so the rules are testable without a store) -----------------


@dataclass(frozen=True)
class Admission:
    allowed: bool
    #: This call is the half-open probe.
    probe: bool
    #: The state as this call found it (after its own transition).
    record: _Record


def admit(rec: _Record, now: float, *, reset_timeout: float, lease: float) -> Admission:
    if rec.state is BreakerState.CLOSED:
        return Admission(True, False, rec)
    if rec.state is BreakerState.OPEN:
        if rec.opened_at is not None and now < rec.opened_at + reset_timeout:
            return Admission(False, False, rec)
    elif rec.probe_until is not None and now < rec.probe_until:
        return Admission(False, False, rec)  # half-open, the probe is out
    probing = replace(rec, state=BreakerState.HALF_OPEN, probe_until=now + lease)
    return Admission(True, True, probing)


def on_success(rec: _Record) -> _Record:
    return _Record()


def on_failure(rec: _Record, now: float, *, threshold: int, error: str, probe: bool) -> _Record:
    failures = rec.failures + 1
    opens = probe or (rec.state is BreakerState.CLOSED and failures >= threshold)
    # A failure while open (a --no-breaker call, or one already in flight) is fresh
    # news that the tool is down: the rest period starts again.
    if opens or rec.state is BreakerState.OPEN:
        return _Record(BreakerState.OPEN, failures, now, None, error)
    return replace(rec, failures=failures, last_error=error)


def on_neutral(rec: _Record, *, probe: bool) -> _Record:
    if probe and rec.state is BreakerState.HALF_OPEN:
        return replace(rec, probe_until=None)
    return rec


def counts_against(
    exc: ProviderError, *, request_timeout: float | None, configured_timeout: float
) -> bool:
    """Whether a failed call says the tool is down (the rules are in the module docstring)."""
    if not exc.transient:
        return False
    shorter_deadline = request_timeout is not None and request_timeout < configured_timeout
    return not (isinstance(exc, ProviderTimeoutError) and shorter_deadline)


# --- the wrapper -------------------------------------------------------------------


class CircuitBreakerProvider:
    def __init__(
        self,
        inner: ModelProvider,
        *,
        store: BreakerStore,
        failure_threshold: int,
        reset_timeout: float,
        default_timeout: float,
        enforce: bool = True,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.store = store
        #: False is ``--no-breaker``: never refuse, but still record outcomes.
        self.enforce = enforce
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self.default_timeout = default_timeout
        self.clock = clock

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        lease = (request.timeout or self.default_timeout) + PROBE_LEASE_GRACE_S
        admission = await self._admit(lease)
        if not admission.allowed:
            raise self._refusal(admission.record)
        if admission.probe:
            logger.info("%s: circuit half-open, probing", self.name)
        probe = admission.probe
        try:
            response = await self.inner.generate(request)
        except ProviderError as exc:
            if counts_against(
                exc, request_timeout=request.timeout, configured_timeout=self.default_timeout
            ):
                now = self.clock.wall()
                error = f"{exc.kind}: {exc.message}"
                await self._update(
                    lambda r: on_failure(
                        r, now, threshold=self.failure_threshold, error=error, probe=probe
                    )
                )
            elif probe:
                await self._update(lambda r: on_neutral(r, probe=True))
            raise
        except BaseException:
            if probe:  # cancelled or a bug: free the probe slot for the next call
                await self._update(lambda r: on_neutral(r, probe=True))
            raise
        if probe or admission.record != _Record() or await self._needs_reset():
            await self._update(on_success)
        return response

    async def _admit(self, lease: float) -> Admission:
        now = self.clock.wall()
        try:
            current = _Record.load(await off_loop(lambda: self.store.get_breaker(self.name)))
        except Exception as exc:  # the store is not the tool: let the call through
            logger.warning("circuit breaker state for %s unavailable: %s", self.name, exc)
            return Admission(True, False, _Record())
        if current.state is BreakerState.CLOSED or not self.enforce:
            # The common case needs no write: a closed breaker admits without a change.
            # A bypassing call is no probe either: it neither takes nor waits for the slot.
            return Admission(True, False, current)
        decision = Admission(True, False, current)

        def transition(data: BreakerRecord | None) -> BreakerRecord:
            nonlocal decision
            decision = admit(_Record.load(data), now, reset_timeout=self.reset_timeout, lease=lease)
            return decision.record.dump()

        try:
            await off_loop(lambda: self.store.update_breaker(self.name, transition))
        except Exception as exc:  # the store is not the tool: let the call through
            logger.warning("circuit breaker state for %s unavailable: %s", self.name, exc)
            return Admission(True, False, _Record())
        return decision

    async def _needs_reset(self) -> bool:
        """Another call may have opened the breaker while this one ran; success closes it."""
        try:
            stored = await off_loop(lambda: self.store.get_breaker(self.name))
        except Exception:
            return False
        return _Record.load(stored) != _Record()

    async def _update(self, change: Callable[[_Record], _Record]) -> None:
        try:
            await off_loop(
                lambda: self.store.update_breaker(
                    self.name, lambda data: change(_Record.load(data)).dump()
                )
            )
        except Exception as exc:
            logger.warning("could not save circuit breaker state for %s: %s", self.name, exc)

    def _refusal(self, rec: _Record) -> ProviderUnavailableError:
        if rec.state is BreakerState.HALF_OPEN:
            return ProviderUnavailableError(
                f"{self.name} is being re-tested by another call after repeated failures "
                "(circuit breaker half-open).",
                provider=self.name,
                hint="Try again in a moment, or use --no-breaker.",
                detail=rec.last_error,
            )
        retry_at = (rec.opened_at or self.clock.wall()) + self.reset_timeout
        return ProviderUnavailableError(
            f"{self.name} is paused after {rec.failures} failed calls in a row "
            f"(circuit breaker open). Last error: {_clause(rec.last_error or 'unknown')}.",
            provider=self.name,
            hint=(
                f"{self.name} failed {rec.failures} times in a row; next try after "
                f"{_local_hms(retry_at)}, or use --no-breaker."
            ),
            detail=rec.last_error,
        )


# --- status for list-providers / doctor -----------------------------------------


@dataclass(frozen=True)
class BreakerStatus:
    provider: str
    #: Effective state now: an open breaker whose reset time passed reads half-open.
    state: BreakerState
    failures: int
    opened_at: datetime | None
    #: When an open breaker lets the next probe through.
    retry_at: datetime | None
    last_error: str | None
    #: The breaker is switched on in config (state is reported either way).
    enabled: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "state": str(self.state),
            "failures": self.failures,
            "opened_at": self.opened_at.isoformat() if self.opened_at else None,
            "retry_at": self.retry_at.isoformat() if self.retry_at else None,
            "last_error": self.last_error,
            "enabled": self.enabled,
        }


def breaker_status(
    store: BreakerStore | None, provider: str, settings: Settings, *, clock: Clock = SYSTEM_CLOCK
) -> BreakerStatus:
    """``store`` None: no database yet, so nothing has failed and the breaker is closed."""
    stored = store.get_breaker(provider) if store is not None else None
    return _status(_Record.load(stored), provider, settings, clock)


def reset_breaker(
    store: BreakerStore, provider: str, settings: Settings, *, clock: Clock = SYSTEM_CLOCK
) -> BreakerStatus:
    """Close ``provider``'s breaker and forget its failures; returns the status it had.

    One atomic update, so it cannot interleave with a running call's update; a
    probe still out finds the breaker closed and leaves it so. The caller checks
    that ``provider`` is a known name (``registry.check_known``); store errors
    (``StoreError``) propagate, since here the store is the whole point.
    """
    before = _Record()

    def close(data: BreakerRecord | None) -> BreakerRecord:
        nonlocal before
        before = _Record.load(data)
        return _Record().dump()

    store.update_breaker(provider, close)
    return _status(before, provider, settings, clock)


def _status(rec: _Record, provider: str, settings: Settings, clock: Clock) -> BreakerStatus:
    reset = settings.breaker.reset_timeout
    state = rec.state
    retry_at: float | None = None
    if rec.state is BreakerState.OPEN and rec.opened_at is not None:
        retry_at = rec.opened_at + reset
        if clock.wall() >= retry_at:
            state = BreakerState.HALF_OPEN
    return BreakerStatus(
        provider=provider,
        state=state,
        failures=rec.failures,
        opened_at=_utc(rec.opened_at),
        retry_at=_utc(retry_at),
        last_error=rec.last_error,
        enabled=settings.breaker.enabled,
    )


def _clause(text: str) -> str:
    """An error message inside a sentence: without its own closing full stop."""
    return text.rstrip().rstrip(".")


def _utc(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC)


def _local_hms(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%H:%M:%S")
