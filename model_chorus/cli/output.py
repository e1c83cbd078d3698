"""OutputFormatter: the one place that writes to stdout and stderr.

Two faces. Console: Rich on stdout for results, status and progress on
stderr; no colour when NO_COLOR is set, ``--no-color`` is given or the stream
is not a terminal. ``--json``: exactly one JSON document on stdout and
nothing else there — its shape is a contract (``SCHEMA_VERSION``); change it
only by raising the version.
"""

from __future__ import annotations

import json
import os
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

from model_chorus.errors import (
    AllProvidersFailedError,
    InputError,
    ModelChorusError,
    NotEnoughAnswersError,
)

if TYPE_CHECKING:
    from model_chorus.events import EventSink
    from model_chorus.models import WorkflowResult

#: Version of every ``--json`` document's shape.
SCHEMA_VERSION = 1


class OutputFormatter:
    def __init__(
        self,
        *,
        json_output: bool = False,
        verbosity: int = 0,
        quiet: bool = False,
        no_color: bool = False,
        debug: bool = False,
    ) -> None:
        self.json_output = json_output
        self.verbosity = verbosity
        self.quiet = quiet
        self.debug = debug
        colour_off = no_color or bool(os.environ.get("NO_COLOR"))  # no-color.org
        # Renderables (panels, tables) wrap to the terminal; raw answers go through
        # text(), which never wraps, so piped output is byte-for-byte the model's.
        self.out = Console(no_color=colour_off, highlight=False)
        self.err = Console(stderr=True, no_color=colour_off, highlight=False, soft_wrap=True)

    # -- results -----------------------------------------------------------------------

    def result(
        self,
        result: WorkflowResult,
        *,
        context: dict[str, Any] | None = None,
        output_file: Path | None = None,
        error: ModelChorusError | None = None,
    ) -> ModelChorusError | None:
        """The result; with ``error``, a result that came with a failure (not saved).

        Returns the error reported with the result (``error``, or a failure to write
        ``output_file``), for the caller's exit code.
        """
        document = result_document(result, context=context)
        if error is not None:
            document["error"] = error_document(error, workflow=result.workflow)["error"]
        if output_file is not None:
            # The file first, so a failure can still be told in the one stdout document;
            # the answer is shown either way.
            text = (
                json.dumps(document, indent=2, ensure_ascii=False) + "\n"
                if self.json_output
                else markdown_document(result)
            )
            try:
                write_output_file(output_file, text)
            except InputError as exc:
                error = error or exc
                document.setdefault("error", error_document(exc)["error"])
                output_file = None
        if self.json_output:
            self.emit_json(document)
        else:
            from model_chorus.cli.renderers import render_result

            render_result(result, self)
        if output_file is not None:
            self.status(f"Saved to {output_file}")
        if error is not None and not self.json_output:
            self.error(error)
        return error

    def data(self, document: dict[str, Any], render: Callable[[Console], None]) -> None:
        """A listing (providers, workflows, threads ...): JSON document or Rich rendering."""
        if self.json_output:
            self.emit_json({"schema_version": SCHEMA_VERSION, **document})
        else:
            render(self.out)

    def text(self, text: str) -> None:
        """Raw text on stdout exactly as given: no markup, emoji codes, wrapping or styling."""
        self.out.file.write(text if text.endswith("\n") else text + "\n")
        self.out.file.flush()

    def emit_json(self, document: dict[str, Any]) -> None:
        # Bypass Rich: the document must be byte-exact JSON, never wrapped or styled.
        text = json.dumps(document, indent=2, ensure_ascii=False, default=str)
        self.out.file.write(text + "\n")
        self.out.file.flush()

    # -- status and errors (stderr) ----------------------------------------------------

    def status(self, message: str) -> None:
        if not self.quiet:
            self.err.print(escape(message), style="dim")

    def info(self, message: str) -> None:
        """Detail shown with -v only."""
        if self.verbosity > 0 and not self.quiet:
            self.err.print(escape(message), style="dim")

    def warning(self, message: str) -> None:
        if not self.quiet:
            self.err.print(f"[yellow]Warning:[/] {escape(message)}")

    def error(self, exc: ModelChorusError, *, workflow: str | None = None) -> None:
        if self.json_output:
            self.emit_json(error_document(exc, workflow=workflow))
            return
        self.err.print(f"[bold red]Error:[/] {escape(exc.message)}")
        if exc.hint:
            self.err.print(f"[cyan]Hint:[/] {escape(exc.hint)}")
        detail = getattr(exc, "detail", None)
        if self.debug and detail:
            self.err.print(escape(str(detail)), style="dim")

    def bug(self, exc: BaseException, *, workflow: str | None = None) -> None:
        """An unexpected exception: say it is a bug, show the traceback only with --debug."""
        message = f"Internal error ({type(exc).__name__}: {exc}). This is a bug in model-chorus."
        hint = "Run again with --debug to see the traceback, and please report it."
        if self.json_output:
            self.emit_json(
                {
                    "schema_version": SCHEMA_VERSION,
                    "workflow": workflow,
                    "error": {"type": "internal_error", "message": message, "hint": hint},
                }
            )
        else:
            self.err.print(f"[bold red]Error:[/] {escape(message)}")
            self.err.print(f"[cyan]Hint:[/] {hint}")
        if self.debug:
            self.err.print("".join(traceback.format_exception(exc)), style="dim", markup=False)

    @contextmanager
    def progress(self, label: str) -> Iterator[EventSink]:
        """A sink for workflow events: a spinner with provider names and elapsed time."""
        from model_chorus.cli.progress import ProgressDisplay

        display = ProgressDisplay(self, label)
        with display:
            yield display.handle


def result_document(
    result: WorkflowResult, *, context: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The ``--json`` shape of a workflow result (schema_version 1)."""
    primary = result.primary
    return {
        "schema_version": SCHEMA_VERSION,
        "workflow": result.workflow,
        "thread_id": result.thread_id if result.thread_stored else None,
        "continued": result.continued,
        "provider": primary.provider if primary else None,
        "model": primary.model if primary else None,
        "content": result.content,
        "usage": result.usage.to_dict(),
        "attempts": [a.to_dict() for a in result.attempts],
        "responses": [r.to_dict() for r in result.responses],
        "failures": [f.to_dict() for f in result.failures],
        "timing": {
            "started_at": result.started_at.isoformat(),
            "duration_ms": round(result.duration_s * 1000, 1),
        },
        "data": result.data,
        "context": context or {"files": []},
        "warnings": result.warnings,
    }


def error_document(exc: ModelChorusError, *, workflow: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"type": exc.kind, "message": exc.message, "hint": exc.hint}
    if isinstance(exc, AllProvidersFailedError | NotEnoughAnswersError):
        error["failures"] = [
            {"provider": f.provider, "type": f.kind, "message": f.message, "hint": f.hint}
            for f in exc.failures
        ]
    return {
        "schema_version": SCHEMA_VERSION,
        "workflow": workflow,
        # Known when the failure concerns a stored thread (e.g. a state conflict).
        "thread_id": getattr(exc, "thread_id", None),
        "error": error,
    }


def markdown_document(result: WorkflowResult) -> str:
    primary = result.primary
    who = (
        f"{primary.provider} ({primary.model})"
        if primary and primary.model
        else (primary.provider if primary else "model-chorus")
    )
    header = f"<!-- model-chorus {result.workflow} · thread {result.thread_id} · {who} -->"
    return f"{header}\n\n{result.content}\n"


def write_output_file(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"Cannot write the output file {path}: {exc.strerror}.") from None
