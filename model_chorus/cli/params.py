"""Parsing of option values that Click has no type for (durations, times)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from model_chorus.errors import InputError
from model_chorus.models import utcnow

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)


def parse_duration(text: str, *, option: str) -> timedelta:
    """``30d``, ``12h``, ``2w``, ``90m``, ``45s``."""
    match = _DURATION.match(text)
    if not match:
        raise InputError(
            f"{option} expects a duration like 30d, 12h, 2w or 90m, not {text!r}.",
        )
    try:
        delta = timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2).lower()])
        utcnow() - delta  # durations are used as "this long ago"
    except OverflowError:
        raise InputError(f"{option} {text!r} reaches back before the year 1.") from None
    return delta


def parse_since(text: str, *, option: str = "--since") -> datetime:
    """A duration back from now (``7d``) or an ISO date/time (``2026-11-01``)."""
    if _DURATION.match(text):
        return utcnow() - parse_duration(text, option=option)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{option} expects a duration (7d, 12h) or a date (2026-11-01), not {text!r}."
        ) from None
    return moment if moment.tzinfo else moment.astimezone()
