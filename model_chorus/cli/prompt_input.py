"""The prompt of a workflow command: its argument, piped stdin, or both.

Rules (DESIGN: "prompt from stdin when piped; on a terminal with no prompt, a
usage error — never a silent wait"):

* A terminal on stdin is never read.
* A pipe or a file on stdin is read to its end, however long the producer
  takes (``make test 2>&1 | model-chorus chat "why did it fail?"``); after a
  few seconds without data a note on stderr says what we are waiting for.
* A socket on stdin is what agents and editors often leave open without ever
  writing to it. When the prompt is already given (or optional), it is read
  only if data arrives within a short grace period; otherwise we would wait
  forever for nothing.
* Bytes are decoded as strict UTF-8: text that is not UTF-8 is an input
  error (exit 2) before any provider is asked, not a crash after it answered.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable
from typing import BinaryIO

from model_chorus.errors import InputError

#: How long a socket on stdin may stay silent when the prompt does not depend on it.
SOCKET_GRACE_S = 0.2
#: Silence on a pipe after which the user is told we are waiting for it.
WAIT_NOTICE_S = 3.0


def read_prompt(
    argument: str | None,
    *,
    required: bool = True,
    workflow: str = "chat",
    notify: Callable[[str], None] = lambda message: None,
) -> str:
    """Argument and piped text joined by a blank line (argument first)."""
    piped = read_piped_stdin(prompt_given=argument is not None or not required, notify=notify)
    parts = [p.strip("\n") for p in (argument, piped) if p and p.strip()]
    text = "\n\n".join(parts)
    if text.strip() or not required:
        return text
    if argument is not None or piped:
        raise InputError("The prompt is empty.", hint="Give a question or instruction.")
    raise InputError(
        "No prompt given.",
        hint=f'Pass it as an argument (model-chorus {workflow} "...") or pipe it on stdin.',
    )


def read_piped_stdin(*, prompt_given: bool, notify: Callable[[str], None]) -> str | None:
    stream = sys.stdin
    if stream is None or stream.closed:
        return None
    try:
        if stream.isatty():
            return None
    except ValueError:
        return None
    binary: BinaryIO | None = getattr(stream, "buffer", None)
    if binary is None:  # a text-only stream handed in by an embedding program
        return stream.read()
    try:
        fd = binary.fileno()
    except (OSError, ValueError):
        fd = None  # in memory (tests): reading cannot block
    if fd is not None and os.name != "nt":
        mode = os.fstat(fd).st_mode
        if stat.S_ISSOCK(mode) and prompt_given and not _ready(fd, SOCKET_GRACE_S):
            return None
        if stat.S_ISFIFO(mode) and not _ready(fd, WAIT_NOTICE_S):
            notify("Waiting for the text piped on stdin (Ctrl-D ends it)…")
    return _decode(binary.read())


def _ready(fd: int, timeout: float) -> bool:
    import select

    ready, _, _ = select.select([fd], [], [], timeout)
    return bool(ready)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"The text piped on stdin is not valid UTF-8 (byte {exc.start}).",
            hint="Convert it first, e.g. with `iconv -f LATIN1 -t UTF-8`.",
        ) from None
