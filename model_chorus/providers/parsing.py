"""Reading the JSON the AI tools print, tolerant of the noise around it.

The tools mix their JSON with other text: Gemini CLI puts its error object
after stack traces on stderr, Codex CLI prints JSON lines, and any of them
may grow a banner line. These helpers find the JSON and leave the meaning
to each provider.
"""

from __future__ import annotations

import json
import re
from typing import Any

from model_chorus.models import TokenUsage

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_DECODER = json.JSONDecoder()


def json_object(text: str) -> dict[str, Any] | None:
    """The JSON object ``text`` holds, or the last line that is one; None if neither."""
    stripped = text.strip()
    if not stripped:
        return None
    try:
        value = json.loads(stripped)
    except ValueError:
        for line in reversed(stripped.splitlines()):
            if (found := _object_or_none(line.strip())) is not None:
                return found
        return None
    return value if isinstance(value, dict) else None


def trailing_json_object(text: str) -> dict[str, Any] | None:
    """A JSON object (possibly pretty-printed) at the very end of ``text``, after anything."""
    stripped = text.rstrip()
    if not stripped.endswith("}"):
        return None
    starts = [m.start() for m in re.finditer(r"(?m)^\{", stripped)]
    for start in reversed(starts):
        try:
            value, end = _DECODER.raw_decode(stripped, start)
        except ValueError:
            continue
        if end == len(stripped) and isinstance(value, dict):
            return value
    return None


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line of ``text`` that is a JSON object; other lines are skipped."""
    events = []
    for line in text.splitlines():
        if (found := _object_or_none(line.strip())) is not None:
            events.append(found)
    return events


def inner_error_message(message: str) -> str:
    """The ``message`` inside an API error body quoted whole (``{"error": {"message": ...}}``)."""
    found = json_object(message) if message.lstrip().startswith("{") else None
    error = found.get("error") if found else None
    if isinstance(error, dict) and isinstance(error.get("message"), str) and error["message"]:
        return str(error["message"])
    return message


def as_int(value: Any) -> int:
    """A token count from JSON: missing, null or odd values count as 0."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    return 0


def token_usage(
    usage: Any,
    *,
    cached_key: str = "cached_input_tokens",
    outside_input: tuple[str, ...] = (),
) -> TokenUsage:
    """Token counts from a tool's ``usage`` object (``input_tokens``, ``output_tokens`` ...).

    ``outside_input`` names counts a tool reports *beside* ``input_tokens``
    (Claude Code's cache reads and writes); they are added to it, so input
    means the whole prompt for every provider.
    """
    if not isinstance(usage, dict):
        return TokenUsage()
    return TokenUsage(
        input_tokens=as_int(usage.get("input_tokens"))
        + sum(as_int(usage.get(key)) for key in outside_input),
        output_tokens=as_int(usage.get("output_tokens")),
        cached_input_tokens=as_int(usage.get(cached_key)),
    )


def without_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def drop_lines(text: str, noise: tuple[str, ...]) -> str:
    """``text`` without the lines that start with one of the ``noise`` prefixes."""
    return "\n".join(
        line for line in text.splitlines() if not line.strip().startswith(noise)
    ).strip()


def _object_or_none(line: str) -> dict[str, Any] | None:
    if not (line.startswith("{") and line.endswith("}")):
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
