"""Per-provider statistics from the call records (``model-chorus stats``).

A pure function over records, so the numbers are testable without a database
and the CLI only fetches (``call_records(since=...)``) and renders.

Definitions, chosen so the figures answer "is this tool healthy, how fast is it":

* one record is one *attempt* (a retried call counts each attempt);
* ``cancelled`` attempts (the losers of a ``first`` race, Ctrl-C) are neither
  successes nor failures and are left out of the failure rate;
* latency percentiles are over successful attempts only: a timeout's latency
  is the timeout, which says nothing about how fast the tool answers;
* percentiles interpolate linearly between the nearest ranks.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

#: Outcome of a successful attempt; anything else but CANCELLED is a failure kind.
OK = "ok"
CANCELLED = "cancelled"
ALL = "all"


class CallRecordLike(Protocol):
    @property
    def provider(self) -> str: ...
    @property
    def outcome(self) -> str: ...
    @property
    def latency_s(self) -> float: ...
    @property
    def input_tokens(self) -> int: ...
    @property
    def output_tokens(self) -> int: ...


@dataclass(frozen=True)
class ProviderStats:
    provider: str
    calls: int
    successes: int
    cancelled: int
    failures_by_kind: dict[str, int] = field(default_factory=dict)
    latency_p50_s: float | None = None
    latency_p95_s: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def failures(self) -> int:
        return sum(self.failures_by_kind.values())

    @property
    def failure_rate(self) -> float:
        """Failed share of the attempts that finished (cancelled ones excluded); 0 when none."""
        finished = self.successes + self.failures
        return self.failures / finished if finished else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "calls": self.calls,
            "successes": self.successes,
            "failures": self.failures,
            "cancelled": self.cancelled,
            "failure_rate": round(self.failure_rate, 4),
            "failures_by_kind": dict(sorted(self.failures_by_kind.items())),
            "latency_p50_ms": _ms(self.latency_p50_s),
            "latency_p95_ms": _ms(self.latency_p95_s),
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
        }


@dataclass(frozen=True)
class StatsReport:
    #: One entry per provider, by name.
    providers: list[ProviderStats]
    #: The same figures over every provider (``provider == "all"``).
    total: ProviderStats

    def to_dict(self) -> dict[str, Any]:
        return {
            "providers": [p.to_dict() for p in self.providers],
            "total": self.total.to_dict(),
        }


def compute_stats(records: Iterable[CallRecordLike]) -> StatsReport:
    by_provider: dict[str, list[CallRecordLike]] = {}
    everything: list[CallRecordLike] = []
    for record in records:
        by_provider.setdefault(record.provider, []).append(record)
        everything.append(record)
    providers = [_summarise(name, by_provider[name]) for name in sorted(by_provider)]
    return StatsReport(providers=providers, total=_summarise(ALL, everything))


def _summarise(provider: str, records: Sequence[CallRecordLike]) -> ProviderStats:
    outcomes = Counter(r.outcome for r in records)
    latencies = sorted(r.latency_s for r in records if r.outcome == OK)
    return ProviderStats(
        provider=provider,
        calls=len(records),
        successes=outcomes.pop(OK, 0),
        cancelled=outcomes.pop(CANCELLED, 0),
        failures_by_kind=dict(outcomes),
        latency_p50_s=percentile(latencies, 50),
        latency_p95_s=percentile(latencies, 95),
        input_tokens=sum(r.input_tokens for r in records),
        output_tokens=sum(r.output_tokens for r in records),
    )


def percentile(sorted_values: Sequence[float], pct: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None when empty."""
    if not sorted_values:
        return None
    rank = (len(sorted_values) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)
