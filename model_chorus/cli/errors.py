"""The one error handler: exceptions become a message and an exit code here only.

Exit codes: 0 success · 1 the work failed (every provider failed, a step
failed) · 2 bad usage or bad input · 130 interrupted. A ModelChorusError
carries its own code; anything else is a bug and is reported as one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from model_chorus.errors import InterruptedByUser, ModelChorusError

if TYPE_CHECKING:
    from model_chorus.cli.output import OutputFormatter

EXIT_INTERRUPTED = 130


@contextmanager
def handle_errors(fmt: OutputFormatter, *, workflow: str | None = None) -> Iterator[None]:
    try:
        yield
    except typer.Exit:
        raise
    except ModelChorusError as exc:
        fmt.error(exc, workflow=workflow)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        fmt.error(InterruptedByUser("Interrupted."), workflow=workflow)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except Exception as exc:
        fmt.bug(exc, workflow=workflow)
        raise typer.Exit(1) from None
