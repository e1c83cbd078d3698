"""The error tree. Every error a person may see carries an actionable message and,
where one exists, a hint. The CLI maps them to exit codes in one place
(``cli/errors.py``); nothing else decides exit codes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from model_chorus.models import WorkflowResult


class ModelChorusError(Exception):
    """Base of every expected failure. Anything else reaching the CLI is a bug."""

    #: Machine-readable kind, used in ``--json`` error objects and call records.
    kind: ClassVar[str] = "error"
    #: Process exit code when this error ends a command.
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


# --- bad usage or bad input: exit 2 -------------------------------------------------


class InputError(ModelChorusError):
    """The user gave us something we cannot use (empty prompt, missing file ...)."""

    kind = "input_error"
    exit_code = 2


class UsageError(InputError):
    """The command line itself is wrong (unknown option, bad choice), as Click reports it."""

    kind = "usage_error"


class ConfigError(InputError):
    """A config file or environment variable is invalid."""

    kind = "config_error"


class UnknownProviderError(InputError):
    kind = "unknown_provider"


class ThreadNotFoundError(InputError):
    kind = "thread_not_found"


# --- provider failures: exit 1 --------------------------------------------------------


class ProviderError(ModelChorusError):
    """A provider call failed. ``transient`` says whether retrying may help."""

    kind = "provider_error"
    transient: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        hint: str | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.provider = provider
        #: Raw text from the tool (stderr tail, error JSON) for logs and --debug.
        self.detail = detail


class ProviderNotInstalledError(ProviderError):
    kind = "not_installed"


class ProviderDisabledError(ProviderError):
    kind = "disabled"


class ProviderTimeoutError(ProviderError):
    kind = "timeout"
    transient = True


class ProviderRateLimitError(ProviderError):
    kind = "rate_limited"
    transient = True


class ProviderLocalRateLimitError(ProviderError):
    """Our own ``requests_per_minute`` limit has no slot before the call's deadline.

    Not transient: the limit cannot clear within the time a retry would have, so
    retrying only repeats the refusal. The tool was never asked, so it says
    nothing about the tool's health either (the breaker ignores it).
    """

    kind = "rate_limited_local"


class ProviderOverloadedError(ProviderError):
    kind = "overloaded"
    transient = True


class ProviderConnectionError(ProviderError):
    kind = "connection_error"
    transient = True


class ProviderCrashError(ProviderError):
    """The tool died without printing anything we could read."""

    kind = "crashed"
    transient = True


class ProviderAuthError(ProviderError):
    kind = "auth_error"


class ProviderBadRequestError(ProviderError):
    """The tool rejected our request (bad flag, bad model name, untrusted folder ...)."""

    kind = "bad_request"


class ProviderOutputError(ProviderError):
    """The tool answered, but not in a shape we can parse."""

    kind = "bad_output"


class ProviderUnavailableError(ProviderError):
    """The circuit breaker is open: the tool failed repeatedly and is being rested."""

    kind = "circuit_open"


class AllProvidersFailedError(ProviderError):
    """Every provider asked (primary and fallbacks) failed."""

    kind = "all_providers_failed"

    def __init__(self, failures: list[ProviderError], *, what: str = "request") -> None:
        names = _describe_failures(failures)
        message = (
            f"The {what} failed: {names}."
            if len(failures) == 1
            else f"Every provider failed for this {what}: {names}."
        )
        super().__init__(
            message,
            provider=",".join(f.provider for f in failures),
            hint=join_sentences(f.hint for f in failures) or None,
        )
        self.failures = failures


class NotEnoughAnswersError(ProviderError):
    """Some providers answered, but fewer than the workflow needs (``--min-responses``)."""

    kind = "not_enough_answers"

    def __init__(
        self, failures: list[ProviderError], *, answered: int, needed: int, what: str
    ) -> None:
        super().__init__(
            f"Only {answered} of the {needed} answers needed for this {what} arrived; "
            f"failed: {_describe_failures(failures)}.",
            provider=",".join(f.provider for f in failures),
            hint=join_sentences(f.hint for f in failures)
            or "Lower --min-responses or add providers with -p.",
        )
        self.failures = failures


def join_sentences(parts: Iterable[str | None]) -> str:
    """Several messages or hints as one text: each once, each ending with one full stop.

    Joining "Raise --timeout." and "Run gemini once" with "; " read "...timeout.; Run ...".
    """
    sentences = [s for s in (p.strip() for p in parts if p) if s]
    return " ".join(s if s.endswith((".", "!", "?")) else f"{s}." for s in dict.fromkeys(sentences))


def _describe_failures(failures: Iterable[ProviderError]) -> str:
    """``claude (timeout: ... was stopped), gemini (...)``: no full stop inside the brackets."""
    return ", ".join(f"{f.provider} ({f.kind}: {f.message.rstrip().rstrip('.')})" for f in failures)


# --- everything else ------------------------------------------------------------------


class WorkflowError(ModelChorusError):
    """A workflow step could not complete; names the step.

    ``thread_id`` names the thread that keeps the run's earlier steps, when some were
    saved, so ``--json`` can point a script at what survived.
    """

    kind = "workflow_error"

    def __init__(
        self, message: str, *, step: str, hint: str | None = None, thread_id: str | None = None
    ) -> None:
        super().__init__(f"{step}: {message}", hint=hint)
        self.step = step
        self.thread_id = thread_id


class StoreError(ModelChorusError):
    kind = "store_error"


class StateConflictError(StoreError):
    """Another run changed the thread's workflow state between this run's read and its save.

    Raised instead of overwriting that run's state; nothing of this run's turn is stored.
    """

    kind = "state_conflict"

    def __init__(self, thread_id: str, key: str, *, hint: str | None = None) -> None:
        super().__init__(
            f"Another model-chorus run updated thread {thread_id} while this one was "
            f"running, so this run's turn was not saved (its {key} state would have "
            "overwritten the other run's).",
            hint=hint or "Run the command again: it continues from what the other run stored.",
        )
        self.thread_id = thread_id
        self.key = key


class TurnNotSavedError(StoreError):
    """The providers answered but the turn could not be stored (database locked past the
    busy timeout, disk full, thread deleted meanwhile ...).

    Carries the run's ``result`` so the answer the tokens were spent on can still be
    shown, before this error. ``cause`` is the store's own error;
    ``thread_stored`` says whether ``result.thread_id`` names a stored thread (False
    for a new thread whose first turn failed to save: nothing to ``--continue``).
    """

    kind = "not_saved"

    def __init__(
        self,
        result: WorkflowResult,
        cause: ModelChorusError,
        *,
        thread_stored: bool | None = None,
        kept: str | None = None,
    ) -> None:
        stored = result.continued if thread_stored is None else thread_stored
        if kept is None:
            kept = (
                f"thread {result.thread_id} keeps its earlier turns"
                if stored
                else "no thread was created for it"
            )
        super().__init__(
            f"This {result.workflow} answer was not saved ({kept}): {cause.message}",
            hint=cause.hint,
        )
        self.result = result
        self.cause = cause
        self.thread_stored = stored


class InterruptedByUser(ModelChorusError):
    kind = "interrupted"
    exit_code = 130
