"""The one error handler: exceptions become a message and an exit code here only.

Exit codes: 0 success · 1 the work failed (every provider failed, a step
failed) · 2 bad usage or bad input · 130 interrupted (Ctrl-C), 143 terminated
(SIGTERM), 129 hung up (SIGHUP). A ModelChorusError carries its own code;
anything else is a bug and is reported as one.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

import typer

from model_chorus.errors import InterruptedByUser, ModelChorusError

if TYPE_CHECKING:
    from model_chorus.cli.output import OutputFormatter

EXIT_INTERRUPTED = 130


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, handled like Ctrl-C: running tools are killed on the way out.

    A KeyboardInterrupt subclass because that is what asyncio.run and our
    process runner already unwind cleanly (every child process group killed).
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated(signum)


def terminate_like_interrupt() -> None:
    """Make SIGTERM (timeout(1), a cancelled CI job) and SIGHUP (a closed terminal)
    stop the command the way Ctrl-C does, instead of leaving the AI tools running:
    each tool runs in its own session, so it would not get the signal itself."""
    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            signal.signal(sig, _raise_terminated)


@contextmanager
def handle_errors(fmt: OutputFormatter, *, workflow: str | None = None) -> Iterator[None]:
    try:
        yield
    except typer.Exit:
        raise
    except ModelChorusError as exc:
        fmt.error(exc, workflow=workflow)
        raise typer.Exit(exc.exit_code) from None
    except Terminated as exc:
        fmt.error(
            InterruptedByUser(f"Stopped by {signal.Signals(exc.signum).name}."), workflow=workflow
        )
        raise typer.Exit(128 + exc.signum) from None
    except KeyboardInterrupt:
        fmt.error(InterruptedByUser("Interrupted."), workflow=workflow)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except Exception as exc:
        fmt.bug(exc, workflow=workflow)
        raise typer.Exit(1) from None
