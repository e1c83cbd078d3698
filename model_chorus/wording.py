"""Small helpers for the sentences people read (progress lines, footers)."""

from __future__ import annotations


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """``1 call``, ``3 calls``, ``2 repeats``; irregular forms passed explicitly."""
    word = noun if count == 1 else (plural_form or noun + "s")
    return f"{count:,} {word}"
