"""Pieces shared by the renderers of multi-provider workflows (consensus, argument ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass


def provider_label(entry: dict[str, object]) -> str:
    """ "claude" or "claude · opus" from a result-data entry with provider and model."""
    provider = str(entry.get("provider") or "?")
    model = entry.get("model")
    return f"{provider} · {model}" if model else provider
