"""Progress events: how workflows and middleware tell the CLI what happens, without printing.

A workflow (or the runner) calls the sink it was given; the CLI turns events
into spinners and status lines on stderr, tests collect them in a list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    PROVIDER_STARTED = "provider_started"
    PROVIDER_FINISHED = "provider_finished"
    PROVIDER_FAILED = "provider_failed"
    FALLBACK = "fallback"
    RETRY = "retry"
    STEP = "step"
    WARNING = "warning"


@dataclass(frozen=True)
class WorkflowEvent:
    kind: EventKind
    message: str
    provider: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


EventSink = Callable[[WorkflowEvent], None]


def ignore_events(event: WorkflowEvent) -> None:
    """The default sink for library use: progress goes nowhere."""
