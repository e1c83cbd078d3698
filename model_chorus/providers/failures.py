"""Turning what an AI tool said about a failure into one of our error types.

The four tools report the same few failures in different words: an HTTP
status in a JSON field, in an exit code, or inside a message ("unexpected
status 401", "Request rejected (429)", "Repeated 529 Overloaded errors").
Providers extract what their tool offers and hand it here, so the mapping
to transient/permanent errors (provider-formats README, "Transient or
permanent") is decided in one place.
"""

from __future__ import annotations

import re

from model_chorus.errors import (
    ProviderAuthError,
    ProviderBadRequestError,
    ProviderConnectionError,
    ProviderCrashError,
    ProviderError,
    ProviderOutputError,
    ProviderOverloadedError,
    ProviderRateLimitError,
)
from model_chorus.providers.base import ProviderSpec
from model_chorus.providers.runner import ProcessResult

#: Longest tool message quoted in an error's one-sentence message.
_QUOTE_CHARS = 200
#: How much raw tool output an error keeps in ``detail``.
_DETAIL_CHARS = 4000

_STATUS_PATTERNS = (
    re.compile(r"\b(?:status|code)\b[\"']?\s*[:=]?\s*(\d{3})\b", re.IGNORECASE),
    re.compile(r"API Error: (\d{3})\b"),
    re.compile(r"\((\d{3})\)"),
)

#: How each tool's argument parser rejects a command line (commander, yargs, clap), as
#: recorded from the real tools (tests/fakes/recorded/<tool>/argv/).
_ARGUMENT_ERRORS = (
    r"unknown option|argument missing|allowed choices are"
    r"|unknown argument|invalid value|not enough arguments following"
    r"|unexpected argument|unexpected value|a value is required for|cannot be used multiple times"
)

_KEYWORDS: tuple[tuple[type[ProviderError], re.Pattern[str]], ...] = (
    (
        ProviderAuthError,
        re.compile(
            r"not logged in|/login\b|log ?in required|authentication required|unauthori[sz]ed"
            r"|unauthenticated|invalid api key|api key not valid|incorrect api key"
            r"|invalid auth method|missing environment variable: `?\w*(?:api_key|token)"
            r"|must specify the \w*api_key|invalid x-api-key|oauth token",
            re.IGNORECASE,
        ),
    ),
    (
        ProviderRateLimitError,
        re.compile(
            r"rate.?limit|too many requests|resource has been exhausted|quota|usage limit",
            re.IGNORECASE,
        ),
    ),
    (
        ProviderOverloadedError,
        re.compile(
            r"overloaded|service unavailable|internal server error|internal error|high demand"
            r"|bad gateway|gateway timeout|at capacity|temporarily unavailable",
            re.IGNORECASE,
        ),
    ),
    (
        ProviderConnectionError,
        re.compile(
            r"connection (?:refused|failed|reset|error)|unable to connect|fetch failed"
            r"|econnrefused|econnreset|enotfound|etimedout|error sending request"
            r"|network (?:error|is unreachable)|connecterror|getaddrinfo",
            re.IGNORECASE,
        ),
    ),
    (
        ProviderBadRequestError,
        re.compile(
            r"bad request|invalid.?request|invalid_argument|not found|does not exist"
            r"|unknown model|not available|trusted (?:directory|folder)|skip-git-repo-check"
            rf"|budget|{_ARGUMENT_ERRORS}",
            re.IGNORECASE,
        ),
    ),
)


def status_in(text: str) -> int | None:
    """The first HTTP status (400-599) a tool message mentions, if any."""
    for pattern in _STATUS_PATTERNS:
        for match in pattern.finditer(text):
            status = int(match.group(1))
            if 400 <= status <= 599:
                return status
    return None


def error_for_status(status: int) -> type[ProviderError]:
    if status in (401, 403, 407):
        return ProviderAuthError
    if status == 429:
        return ProviderRateLimitError
    if status in (408,):
        return ProviderConnectionError
    if status == 409 or status >= 500:
        return ProviderOverloadedError
    return ProviderBadRequestError


def classify_text(text: str) -> type[ProviderError] | None:
    """The error type a tool's own failure message points to, or None when unclear."""
    if status := status_in(text):
        return error_for_status(status)
    for error_type, pattern in _KEYWORDS:
        if pattern.search(text):
            return error_type
    return None


#: Request bookkeeping in tool messages that says nothing to a person (kept in ``detail``).
_BOOKKEEPING = re.compile(r",?\s*\b(?:url|request id): \S+")


def first_line(text: str) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = _BOOKKEEPING.sub("", line).rstrip(",; ")
    return line if len(line) <= _QUOTE_CHARS else line[: _QUOTE_CHARS - 1] + "…"


def telling_line(text: str, error_type: type[ProviderError]) -> str:
    """The line of a tool message that shows why it failed, for quoting in our message."""
    for line in text.splitlines():
        if line.strip() and classify_text(line) is error_type:
            return first_line(line)
    return first_line(text)


def tail(text: str) -> str:
    return text[-_DETAIL_CHARS:]


def _what_happened(error_type: type[ProviderError]) -> str:
    return {
        ProviderAuthError: "is not logged in or its credentials were rejected",
        ProviderRateLimitError: "hit a rate limit",
        ProviderOverloadedError: "reports its model API is overloaded or failing",
        ProviderConnectionError: "could not connect to its model API",
        ProviderBadRequestError: "rejected the request",
    }.get(error_type, "failed")


def _hint(error_type: type[ProviderError], spec: ProviderSpec, message: str) -> str:
    if error_type is ProviderAuthError:
        return spec.login_hint
    if error_type is ProviderRateLimitError:
        return "Wait a little and try again, or ask another provider with -p."
    if error_type is ProviderOverloadedError:
        return "This is usually temporary: try again shortly, or ask another provider with -p."
    if error_type is ProviderConnectionError:
        return "Check your network connection, proxy and any API base URL the tool is set to use."
    if error_type is ProviderBadRequestError:
        lowered = message.lower()
        if "budget" in lowered:
            return f"Raise or remove the budget flag in providers.{spec.name}.extra_args."
        if re.search(_ARGUMENT_ERRORS, lowered):
            return (
                f"Check providers.{spec.name}.extra_args in your config against "
                f"`{' '.join([spec.executable, *spec.help_args])}`."
            )
        return (
            f"Check the model name (-m or providers.{spec.name}.model) and "
            f"providers.{spec.name}.extra_args in your config."
        )
    return f"Run `{spec.executable}` by hand to see what goes wrong."


def provider_error(
    error_type: type[ProviderError],
    spec: ProviderSpec,
    message: str,
    *,
    detail: str | None = None,
    status: int | None = None,
    hint: str | None = None,
) -> ProviderError:
    """One error with a one-sentence message naming the tool, a hint and the raw text."""
    quoted = telling_line(message, error_type)
    code = f" (HTTP {status})" if status else ""
    text = f"{spec.display_name} {_what_happened(error_type)}{code}"
    text += f": {quoted}" if quoted else "."
    return error_type(
        text,
        provider=spec.name,
        hint=hint or _hint(error_type, spec, message),
        detail=tail(detail if detail is not None else message),
    )


def error_from_message(
    spec: ProviderSpec,
    message: str,
    *,
    detail: str | None = None,
    status: int | None = None,
    fallback: type[ProviderError] = ProviderError,
) -> ProviderError:
    """Classify a tool's failure message (and status, when the tool gave one)."""
    if status is not None and 400 <= status <= 599:
        error_type = error_for_status(status)
    else:
        error_type = classify_text(message) or fallback
        status = status_in(message)
    return provider_error(error_type, spec, message, detail=detail, status=status)


def failed_run(spec: ProviderSpec, result: ProcessResult, output: str) -> ProviderError:
    """A non-zero exit whose ``output`` (noise already removed) has no structured error.

    No output at all is a crash (transient); readable text is classified, and
    text we cannot classify is a plain provider failure quoting the tool.
    """
    text = output.strip()
    if not text:
        return ProviderCrashError(
            f"{spec.display_name} exited with code {result.returncode} without printing anything.",
            provider=spec.name,
            hint=f"Run `{spec.executable}` by hand to see what goes wrong.",
            detail=tail(result.stderr) or None,
        )
    error_type = classify_text(text)
    if error_type is None:
        return ProviderError(
            f"{spec.display_name} exited with code {result.returncode}: {first_line(text)}",
            provider=spec.name,
            hint=f"Run `{spec.executable}` by hand to see what goes wrong.",
            detail=tail(text),
        )
    return provider_error(error_type, spec, text, status=status_in(text))


def output_error(spec: ProviderSpec, result: ProcessResult, problem: str) -> ProviderOutputError:
    """The tool finished but its output is not what we parse."""
    hint = (
        f"Check `{spec.executable} --version`: model-chorus expects the JSON output "
        "of recent versions."
    )
    if result.truncated:
        problem = "its output was larger than the output limit and was cut off"
        hint = (
            "Ask for a shorter answer or attach less: model-chorus keeps at most the "
            "first 16 MiB of a tool's output."
        )
    return ProviderOutputError(
        f"{spec.display_name} answered, but {problem}.",
        provider=spec.name,
        hint=hint,
        detail=_both(result),
    )


def _both(result: ProcessResult) -> str:
    text = tail(result.stdout)
    if result.stderr.strip():
        text += "\n--- stderr ---\n" + tail(result.stderr)
    return text
