"""The one service every workflow uses to turn ``-f`` specs into prompt attachments.

What fits, and what happens to the rest:

1. Files are taken in the order the specs give them (each folder or glob in
   sorted path order, see ``expand.py``), each file once.
2. Binary files and files that cannot be read (vanished since listing,
   unreadable, broken symlink) are left out with that reason.
3. Each file is cut to ``context.max_file_bytes`` ("over per-file limit").
4. All files share two allowances: the caller's token budget (what the prompt
   and history leave of the context window) and ``context.max_total_bytes``.
   Each file also pays for its ``<file path=...>`` wrapper. A file that fits
   what remains goes in whole. One that does not is cut to what remains
   ("over total budget" / "over total size limit") if at least
   ``MIN_PARTIAL_TOKENS`` of its tokens would go in, and left out otherwise.
5. Later files are still tried: a small file after a left-out big one may fit.
   But once no file can be cut any more (fewer than ``MIN_PARTIAL_TOKENS``
   tokens, or bytes, left), only files small enough to fit whole are opened —
   listed size at most the tokens and bytes left, at most
   ``MAX_OPENS_WHEN_FULL`` of them. Every other file is left out unread
   ("over total budget" / "over total size limit", size from the listing), so
   ``-f /`` stops reading when the budget is used up instead of opening every
   file on the disk.

Cutting keeps the head of a file, or with ``head+tail`` its head and its end
around a marker saying how many bytes were left out. Every cut or left-out
file gets a line in ``warnings`` and its fate in ``files``. Reading is bounded
by the allowances, never by the file size (see ``readers.py``). ``--json``
(``to_dict``) lists the first ``MAX_FILE_ENTRIES`` fates and counts the rest.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

from model_chorus.context import expand, readers
from model_chorus.context.tokens import count_tokens, tokenizer_name
from model_chorus.errors import InputError
from model_chorus.models import Attachment

if TYPE_CHECKING:
    from model_chorus.config import ContextSettings

log = logging.getLogger(__name__)

Chunking = readers.Chunking
FileStatus = Literal["included", "truncated", "skipped"]

#: A file the shared budget would cut to fewer tokens than this is left out instead.
MIN_PARTIAL_TOKENS = 256
#: Tokens held back for the ``note="..."`` a cut file carries in the prompt.
NOTE_RESERVE_TOKENS = 32
#: Console lines for cut or left-out files before the rest are summed up in one line.
MAX_WARNING_LINES = 20
#: Files still opened once the allowances are too low for a cut (only whole small
#: files fit then); bounds the work when thousands of files follow a full budget.
MAX_OPENS_WHEN_FULL = 64
#: File fates listed in ``IngestedContext.to_dict``; the rest are only counted.
MAX_FILE_ENTRIES = 200
#: Seconds of work before the first progress message, and between messages.
PROGRESS_INTERVAL_S = 0.5

OVER_FILE_LIMIT = "over per-file limit"
OVER_BUDGET = "over total budget"
OVER_TOTAL_BYTES = "over total size limit"


@dataclass
class FileReport:
    """One file's fate, for ``--json`` (``context.files``) and the console warnings."""

    path: str
    size: int
    tokens: int
    status: FileStatus
    reason: str | None = None
    encoding: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "size": self.size,
            "tokens": self.tokens,
            "status": self.status,
            "reason": self.reason,
            "encoding": self.encoding,
        }


@dataclass
class IngestedContext:
    attachments: list[Attachment] = field(default_factory=list)
    files: list[FileReport] = field(default_factory=list)
    #: What the attachments cost in the prompt, ``<file>`` wrappers included.
    total_tokens: int = 0
    budget: int = 0
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        counts = dict.fromkeys(("included", "truncated", "skipped"), 0)
        for report in self.files:
            counts[report.status] += 1
        return {
            "files": [f.to_dict() for f in self.files[:MAX_FILE_ENTRIES]],
            #: Fates left out of ``files`` (a folder of thousands of files).
            "files_omitted": max(len(self.files) - MAX_FILE_ENTRIES, 0),
            #: Over every file, listed or omitted.
            "file_counts": counts,
            "total_tokens": self.total_tokens,
            "budget": self.budget,
            "tokenizer": tokenizer_name(),
            "warnings": list(self.warnings),
        }


class ContextIngestionService:
    """Reads ``-f`` specs relative to ``cwd`` into attachments that fit a token budget."""

    def __init__(
        self,
        settings: ContextSettings,
        *,
        cwd: Path | None = None,
        on_progress: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.cwd = os.path.normpath(Path.cwd() if cwd is None else Path(cwd).absolute())
        self._on_progress = on_progress

    def ingest(
        self, specs: Sequence[str], *, token_budget: int, chunking: Chunking = "head"
    ) -> IngestedContext:
        if chunking not in ("head", "head+tail"):
            raise InputError(f"Unknown chunking {chunking!r}.", hint="Use 'head' or 'head+tail'.")
        if not specs:
            return IngestedContext(budget=token_budget)
        progress = _Progress(self._on_progress)
        candidates = expand.expand_specs(
            specs, self.cwd, on_found=lambda n: progress.tick(f"Listing files: {n:,} found")
        )
        fill = _Fill(self.settings, max(token_budget, 0), chunking)
        for index, candidate in enumerate(candidates, 1):
            progress.tick(
                f"Reading files: {index:,} of {len(candidates):,} ({fill.tokens:,} tokens)"
            )
            fill.take(candidate)
        return IngestedContext(
            attachments=fill.attachments,
            files=fill.reports,
            total_tokens=fill.tokens,
            budget=token_budget,
            warnings=_warnings(fill.reports),
        )

    def chunks(self, spec: str, *, chunk_tokens: int) -> Iterator[Attachment]:
        """``spec``'s files in consecutive parts of at most ``chunk_tokens`` each.

        For workflows that go through one big file step by step. The spec is
        checked now (InputError as for ``ingest``, also for a single binary
        file); parts are read lazily, so only one part is in memory at a time.
        The byte limits do not apply: the caller decides how many parts to take.
        """
        if chunk_tokens < 1:
            raise ValueError("chunk_tokens must be at least 1")
        candidates = [c for c in expand.expand_specs([spec], self.cwd) if c.problem is None]
        if len(candidates) == 1 and candidates[0].explicit:
            with open_file(candidates[0].path) as handle:
                if readers.sniff(handle) is None:
                    raise InputError(
                        f"{spec} is a binary file; only text can be read in parts.",
                        hint="Attach a text file, or convert this one to text first.",
                    )
        return self._chunks(candidates, chunk_tokens)

    @staticmethod
    def _chunks(candidates: list[expand.Candidate], chunk_tokens: int) -> Iterator[Attachment]:
        for candidate in candidates:
            try:
                handle = open_file(candidate.path)
            except OSError as exc:
                log.warning("skipping %s: %s", candidate.display, exc)
                continue
            with handle:
                size = os.fstat(handle.fileno()).st_size
                source = readers.sniff(handle)
                if source is None:
                    log.warning("skipping %s: binary", candidate.display)
                    continue
                parts = readers.iter_chunks(handle, source, chunk_tokens=chunk_tokens)
                for number, part in enumerate(parts, 1):
                    note = f"part {number}: bytes {part.start:,}–{part.end:,} of {size:,}"
                    yield Attachment(candidate.display, part.text, part.tokens, note)


def open_file(path: str) -> BinaryIO:
    """The one place files are opened (tests replace it to simulate permission errors)."""
    return open(path, "rb")


class _Fill:
    """Applies the module's rule file by file, keeping the allowances."""

    def __init__(self, settings: ContextSettings, budget: int, chunking: Chunking) -> None:
        self.max_file_bytes = settings.max_file_bytes
        self.bytes_left = settings.max_total_bytes
        self.budget = budget
        self.chunking = chunking
        self.tokens = 0
        self.attachments: list[Attachment] = []
        self.reports: list[FileReport] = []
        #: Files opened since the allowances became too low for a cut.
        self.opens_when_full = 0

    def take(self, candidate: expand.Candidate) -> None:
        if candidate.problem is not None:
            self._skip(candidate, candidate.size, candidate.problem)
            return
        framing = _framing_tokens(candidate.display)
        tokens_left = self.budget - self.tokens - framing
        full = self._full_reason(candidate.size, tokens_left)
        if full is not None:
            self._skip(candidate, candidate.size, full)
            return
        try:
            handle = open_file(candidate.path)
        except FileNotFoundError:
            self._skip(candidate, candidate.size, "vanished")
            return
        except OSError:
            self._skip(candidate, candidate.size, "unreadable")
            return
        with handle:
            try:
                self._read(candidate, handle, framing, tokens_left)
            except OSError as exc:  # e.g. EIO, or a file turned into something unreadable
                log.debug("reading %s failed: %s", candidate.display, exc)
                self._skip(candidate, candidate.size, "unreadable")

    def _full_reason(self, size: int, tokens_left: int) -> str | None:
        """Why ``size`` bytes cannot go in, decided without opening the file; None: try it."""
        if tokens_left <= 0:
            return OVER_BUDGET
        if self.bytes_left <= 0 and size > 0:
            return OVER_TOTAL_BYTES
        cut_fits = (
            tokens_left >= MIN_PARTIAL_TOKENS + NOTE_RESERVE_TOKENS
            and self.bytes_left >= MIN_PARTIAL_TOKENS
        )
        if cut_fits:
            return None
        # Only a whole file can go in now. A token holds at least one byte of
        # UTF-8, so a file no bigger than the tokens left very likely fits;
        # a bigger one is left out unread.
        if size > tokens_left:
            return OVER_BUDGET
        if size > self.bytes_left:
            return OVER_TOTAL_BYTES
        if self.opens_when_full >= MAX_OPENS_WHEN_FULL:
            return OVER_BUDGET if tokens_left < MIN_PARTIAL_TOKENS else OVER_TOTAL_BYTES
        self.opens_when_full += 1
        return None

    def _read(
        self, candidate: expand.Candidate, handle: BinaryIO, framing: int, tokens_left: int
    ) -> None:
        size = os.fstat(handle.fileno()).st_size
        source = readers.sniff(handle)
        if source is None:
            self._skip(candidate, size, "binary")
            return
        # Hold tokens back for the note only when a cut is allowed at all.
        may_cut = tokens_left >= MIN_PARTIAL_TOKENS + NOTE_RESERVE_TOKENS
        max_bytes = min(self.max_file_bytes, self.bytes_left)
        excerpt = readers.read_excerpt(
            handle,
            source,
            size,
            max_tokens=tokens_left - NOTE_RESERVE_TOKENS if may_cut else tokens_left,
            max_bytes=max_bytes,
            chunking=self.chunking,
        )
        note = None
        reason = None
        if not excerpt.complete:
            if excerpt.limited_by == "tokens":
                reason = OVER_BUDGET
            elif self.max_file_bytes <= self.bytes_left:
                reason = OVER_FILE_LIMIT
            else:
                reason = OVER_TOTAL_BYTES
            if reason != OVER_FILE_LIMIT and (not may_cut or excerpt.tokens < MIN_PARTIAL_TOKENS):
                self._skip(candidate, size, reason)
                return
            note = _note(excerpt, size)
            framing += count_tokens(f' note="{note}"')
        self.tokens += excerpt.tokens + framing
        self.bytes_left -= size - excerpt.omitted_bytes
        self.attachments.append(Attachment(candidate.display, excerpt.text, excerpt.tokens, note))
        self.reports.append(
            FileReport(
                candidate.display,
                size,
                excerpt.tokens,
                "included" if excerpt.complete else "truncated",
                reason,
                excerpt.encoding,
            )
        )

    def _skip(self, candidate: expand.Candidate, size: int, reason: str) -> None:
        self.reports.append(FileReport(candidate.display, size, 0, "skipped", reason))


def _framing_tokens(path: str) -> int:
    """What ``workflows/prompting.render_attachments`` wraps around one file."""
    return count_tokens(f'<file path="{path}">\n\n</file>\n\n')


def _note(excerpt: readers.Excerpt, size: int) -> str:
    whole = format_size(size)
    if excerpt.tail_tokens:
        return (
            f"truncated: first {excerpt.head_tokens:,} and last {excerpt.tail_tokens:,} "
            f"tokens of {whole}; {excerpt.omitted_bytes:,} bytes in between left out"
        )
    return f"truncated: first {excerpt.tokens:,} tokens of {whole}"


def _warnings(reports: list[FileReport]) -> list[str]:
    lines = []
    for report in reports:
        if report.status == "truncated":
            lines.append(
                f"{report.path}: truncated to {report.tokens:,} tokens of "
                f"{format_size(report.size)} ({report.reason})"
            )
        elif report.status == "skipped":
            lines.append(f"{report.path}: left out ({report.reason})")
    if len(lines) > MAX_WARNING_LINES:
        rest = len(lines) - MAX_WARNING_LINES + 1
        lines = lines[: MAX_WARNING_LINES - 1]
        lines.append(f"… and {rest:,} more files truncated or left out (see context.files)")
    return lines


def format_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{size:,} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")  # pragma: no cover


class _Progress:
    """Throttled progress messages; silent unless the work lasts ``PROGRESS_INTERVAL_S``."""

    def __init__(self, callback: Callable[[str], None] | None) -> None:
        self.callback = callback
        self.last = time.monotonic()

    def tick(self, message: str) -> None:
        if self.callback is None:
            return
        now = time.monotonic()
        if now - self.last >= PROGRESS_INTERVAL_S:
            self.last = now
            self.callback(message)
