"""Pieces shared by the renderers of multi-provider workflows (consensus, argument ...).

``render_footer`` names one provider (the last response); a result built from
several providers names each of them and what they did instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from model_chorus.cli.output import OutputFormatter
    from model_chorus.models import WorkflowResult


def render_multi_footer(result: WorkflowResult, fmt: OutputFormatter, who: str) -> None:
    """Warnings, failures, ``who`` took part, tokens, time and how to continue — on stderr."""
    for warning in result.warnings:
        fmt.warning(warning)
    for failure in result.failures:
        fmt.warning(f"{failure.provider} did not answer ({failure.kind}): {failure.message}")
    parts = [who]
    usage = result.usage
    if usage.total_tokens:
        parts.append(f"{usage.input_tokens:,} in / {usage.output_tokens:,} out tokens")
    parts.append(f"{len(result.responses)} calls · {result.duration_s:.1f}s")
    fmt.status(" · ".join(parts))
    fmt.status(
        f"Thread {result.thread_id} — continue with: "
        f'model-chorus {result.workflow} --continue {result.thread_id[:8]} "..."'
    )


def provider_label(entry: dict[str, object]) -> str:
    """ "claude" or "claude · opus" from a result-data entry with provider and model."""
    provider = str(entry.get("provider") or "?")
    model = entry.get("model")
    return f"{provider} · {model}" if model else provider
