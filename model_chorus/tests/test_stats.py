"""Provider statistics from call records."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from model_chorus.stats import compute_stats, percentile


@dataclass(frozen=True)
class Rec:
    provider: str
    outcome: str
    latency_s: float = 1.0
    input_tokens: int = 0
    output_tokens: int = 0


def test_counts_failure_kinds_rates_and_tokens_per_provider() -> None:
    records = [
        Rec("gemini", "ok", 1.0, 100, 10),
        Rec("gemini", "rate_limited", 0.2),
        Rec("gemini", "rate_limited", 0.3),
        Rec("gemini", "ok", 3.0, 50, 5),
        Rec("gemini", "cancelled", 0.5),
        Rec("claude", "auth_error", 0.1),
    ]

    report = compute_stats(records)

    claude, gemini = report.providers
    assert gemini.provider == "gemini"
    assert (gemini.calls, gemini.successes, gemini.failures, gemini.cancelled) == (5, 2, 2, 1)
    assert gemini.failures_by_kind == {"rate_limited": 2}
    assert gemini.failure_rate == 0.5
    assert (gemini.input_tokens, gemini.output_tokens) == (150, 15)
    # Latency of successful attempts only.
    assert gemini.latency_p50_s == pytest.approx(2.0)
    assert claude.failure_rate == 1.0
    assert claude.latency_p50_s is None
    assert report.total.provider == "all"
    assert report.total.calls == 6
    assert report.total.failures_by_kind == {"rate_limited": 2, "auth_error": 1}


def test_json_shape() -> None:
    data = compute_stats([Rec("codex", "ok", 0.25), Rec("codex", "timeout", 30.0)]).to_dict()

    [codex] = data["providers"]
    assert codex == {
        "provider": "codex",
        "calls": 2,
        "successes": 1,
        "failures": 1,
        "cancelled": 0,
        "failure_rate": 0.5,
        "failures_by_kind": {"timeout": 1},
        "latency_p50_ms": 250.0,
        "latency_p95_ms": 250.0,
        "input_tokens": 0,
        "output_tokens": 0,
    }
    assert data["total"]["calls"] == 2


def test_no_records_is_an_empty_report() -> None:
    report = compute_stats([])

    assert report.providers == []
    assert report.total.calls == 0
    assert report.total.failure_rate == 0.0


def test_percentiles_interpolate_between_ranks() -> None:
    values = [float(v) for v in range(1, 21)]  # 1..20

    assert percentile(values, 50) == pytest.approx(10.5)
    assert percentile(values, 95) == pytest.approx(19.05)
    assert percentile([4.0], 95) == 4.0
    assert percentile([], 50) is None
