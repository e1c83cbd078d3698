"""Logging for the CLI: stderr only, quiet by default, text for people or JSON lines.

Library code logs through ``logging.getLogger(__name__)`` under ``model_chorus.``
and never configures handlers; this module, called once by the root command,
decides what reaches the terminal. stdout stays reserved for results (``--json``
output must be the only thing there).

Verbosity: ``-q`` (-1) errors only, default (0) warnings, ``-v`` (1) info,
``-vv`` (2+) debug.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any, Literal, TextIO

ROOT_LOGGER = "model_chorus"

_LEVELS = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}
#: Attributes every LogRecord has; anything else came in through ``extra=``.
_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is *now* (test runners and Ctrl-C handlers swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and any ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``level logger: message`` with the short logger name; tracebacks at debug level."""

    def __init__(self, *, show_time: bool) -> None:
        super().__init__("%(asctime)s " if show_time else "", datefmt="%H:%M:%S")
        self.show_time = show_time

    def format(self, record: logging.LogRecord) -> str:
        name = record.name.removeprefix(ROOT_LOGGER + ".")
        prefix = f"{self.formatTime(record, self.datefmt)} " if self.show_time else ""
        line = f"{prefix}{record.levelname.lower()} {name}: {record.getMessage()}"
        if record.exc_info and self.show_time:
            line += "\n" + self.formatException(record.exc_info)
        return line


def level_for(verbosity: int) -> int:
    return _LEVELS.get(verbosity, logging.DEBUG if verbosity > 1 else logging.ERROR)


def configure_logging(verbosity: int = 0, fmt: Literal["text", "json"] = "text") -> None:
    """Install the one stderr handler on the ``model_chorus`` logger (idempotent)."""
    logger = logging.getLogger(ROOT_LOGGER)
    for handler in list(logger.handlers):
        if isinstance(handler, _StderrHandler):
            logger.removeHandler(handler)
    handler = _StderrHandler()
    debug = verbosity > 1
    handler.setFormatter(JsonLinesFormatter() if fmt == "json" else TextFormatter(show_time=debug))
    logger.addHandler(handler)
    logger.setLevel(level_for(verbosity))
