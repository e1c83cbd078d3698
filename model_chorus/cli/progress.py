"""Progress on stderr while providers work: a spinner naming who is still busy.

On a terminal: one live line ("Asking claude, gemini… 4.2s") and a line per
notable event above it. Off a terminal (CI logs, redirected stderr): no
spinner, only the notable events, so logs stay readable.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Console, ConsoleOptions
from rich.markup import escape
from rich.measure import Measurement
from rich.status import Status
from rich.text import Text

from model_chorus.events import EventKind, WorkflowEvent

if TYPE_CHECKING:
    from model_chorus.cli.output import OutputFormatter

#: Events always worth a line (unless --quiet): something did not go to plan. A
#: provider's failure itself reaches the user through the fallback line, the
#: result's warnings or the final error, so it is shown only with -v.
_NOTABLE = {EventKind.FALLBACK, EventKind.RETRY, EventKind.WARNING}


class _SpinnerText:
    """Rendered on every refresh, so the elapsed time ticks without extra threads."""

    def __init__(self, display: ProgressDisplay) -> None:
        self.display = display

    def __rich__(self) -> Text:
        d = self.display
        busy = ", ".join(d.active) if d.active else d.label
        verb = "Asking" if d.active else ""
        return Text(f"{verb} {busy}… {time.monotonic() - d.started:.1f}s".strip())

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        # Without this the spinner's grid measures the object, not its text, and
        # wraps the line a few characters wide.
        return Measurement.get(console, options, self.__rich__())


class ProgressDisplay:
    def __init__(self, formatter: OutputFormatter, label: str) -> None:
        self.formatter = formatter
        self.label = label
        self.active: list[str] = []
        self.started = time.monotonic()
        self.enabled = not formatter.quiet
        self.live = self.enabled and formatter.err.is_terminal
        self._status: Status | None = None

    def __enter__(self) -> ProgressDisplay:
        if self.live:
            self._status = Status(_SpinnerText(self), console=self.formatter.err, spinner="dots")
            self._status.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._status is not None:
            self._status.stop()

    def handle(self, event: WorkflowEvent) -> None:
        if event.kind == EventKind.PROVIDER_STARTED and event.provider:
            self.active.append(event.provider)
        elif (
            event.kind in (EventKind.PROVIDER_FINISHED, EventKind.PROVIDER_FAILED)
            and event.provider in self.active
        ):
            self.active.remove(event.provider)
        if not self.enabled:
            return
        if event.kind in _NOTABLE:
            self.formatter.err.print(f"[yellow]•[/] {escape(event.message)}")
        elif event.kind == EventKind.STEP or self.formatter.verbosity > 0:
            self.formatter.err.print(f"[dim]• {escape(event.message)}[/]")
