"""Read a file's text while holding no more of it than the budget can use.

A file is never read whole on faith: at most ``max_tokens × BYTES_PER_TOKEN``
bytes (and never more than ``max_bytes``) are read, decoded, counted and
trimmed with ``context/tokens.py``. Only text so sparse in tokens that the
estimate fell short (long runs of spaces) makes a read grow, still capped by
``max_bytes``. ``head+tail`` seeks to the end for the tail, so a 2 GB file costs
the same memory as a 2 MB one.

Decoding: a BOM wins (UTF-8, UTF-16, UTF-32); otherwise the first read decides
between UTF-8 and, for bytes that are not UTF-8, cp1252 (Windows Latin-1) or,
failing that, ISO-8859-1, which accepts every byte. Later reads of the same
file use the same codec and replace undecodable bytes.

Binary: a NUL byte, or more than ``CONTROL_RATIO_LIMIT`` control characters,
in the first ``SNIFF_BYTES`` bytes (the test git and grep use, plus a guard
for NUL-free binaries). UTF-16/32 files are recognised by their BOM first,
since their text is full of NULs.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Literal

from model_chorus.context.tokens import clip_tokens, count_tokens

Chunking = Literal["head", "head+tail"]

SNIFF_BYTES = 8192
#: Upper bound of bytes one token stands for in ordinary text and code (typical is ~4).
BYTES_PER_TOKEN = 8
CONTROL_RATIO_LIMIT = 0.10
#: Control bytes that plain text does contain: backspace, tab, newlines, form feed, escape.
_TEXT_CONTROLS = frozenset({8, 9, 10, 11, 12, 13, 27})
_NOT_TEXT = bytes(b for b in range(32) if b not in _TEXT_CONTROLS) + b"\x7f"
#: Longest BOMs first: the UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", 4),
    (codecs.BOM_UTF32_BE, "utf-32-be", 4),
    (codecs.BOM_UTF8, "utf-8", 1),
    (codecs.BOM_UTF16_LE, "utf-16-le", 2),
    (codecs.BOM_UTF16_BE, "utf-16-be", 2),
)
#: Tokens kept free for the marker between head and tail.
MARKER_RESERVE_TOKENS = 24


@dataclass(frozen=True)
class TextSource:
    """How a file's bytes become text, fixed by its first bytes."""

    #: Codec named by a BOM; None lets the first read choose UTF-8 or a legacy code page.
    codec: str | None = None
    bom: int = 0
    #: Code unit size, to realign after a seek into the middle of the file.
    unit: int = 1


@dataclass(frozen=True)
class Excerpt:
    """What was kept of one file."""

    text: str
    tokens: int
    encoding: str
    #: The whole file is in ``text``.
    complete: bool
    #: When incomplete, what cut it: the token allowance or the byte allowance.
    limited_by: Literal["tokens", "bytes"] | None = None
    head_tokens: int = 0
    tail_tokens: int = 0
    omitted_bytes: int = 0


@dataclass(frozen=True)
class Chunk:
    text: str
    tokens: int
    start: int  # byte offset in the file (approximate after undecodable bytes)
    end: int


@dataclass(frozen=True)
class _Part:
    text: str
    tokens: int
    nbytes: int  # bytes of the file that ``text`` stands for
    codec: str
    eof: bool
    clipped: bool  # cut by the token allowance


def sniff(handle: BinaryIO) -> TextSource | None:
    """Inspect the start of ``handle``; None for binary. Leaves it positioned after any BOM."""
    head = handle.read(SNIFF_BYTES)
    source = _source_from(head)
    handle.seek(source.bom if source is not None else 0)
    return source


def _source_from(head: bytes) -> TextSource | None:
    for bom, codec, unit in _BOMS:
        if head.startswith(bom):
            return TextSource(codec, len(bom), unit)
    if b"\x00" in head:
        return None
    if head:
        controls = len(head) - len(head.translate(None, _NOT_TEXT))
        if controls / len(head) > CONTROL_RATIO_LIMIT:
            return None
    return TextSource()


def read_excerpt(
    handle: BinaryIO,
    source: TextSource,
    size: int,
    *,
    max_tokens: int,
    max_bytes: int,
    chunking: Chunking = "head",
) -> Excerpt:
    """The file whole if it fits both allowances, else its head (or head and tail)."""
    body = max(size - source.bom, 0)
    split = chunking == "head+tail" and max_tokens > 2 * MARKER_RESERVE_TOKENS
    if not split or body <= min(max_bytes, max_tokens * BYTES_PER_TOKEN):
        whole = _read_head(handle, source, max_tokens, max_bytes)
        if (whole.eof and not whole.clipped) or not split:
            return _head_excerpt(whole, size - source.bom)
        handle.seek(source.bom)
    half_tokens = (max_tokens - MARKER_RESERVE_TOKENS) // 2
    head = _read_head(handle, source, half_tokens, max_bytes // 2)
    if head.eof and not head.clipped:  # the file shrank since it was measured
        return _head_excerpt(head, size - source.bom)
    start = source.bom + head.nbytes
    tail = _read_tail(handle, head.codec, source, size, start, half_tokens, max_bytes // 2)
    omitted = max(size - start - tail.nbytes, 0)
    marker = f"\n\n[… {omitted:,} bytes omitted …]\n\n"
    return Excerpt(
        text=head.text + marker + tail.text,
        tokens=head.tokens + count_tokens(marker) + tail.tokens,
        encoding=head.codec,
        complete=False,
        limited_by="tokens" if head.clipped or tail.clipped else "bytes",
        head_tokens=head.tokens,
        tail_tokens=tail.tokens,
        omitted_bytes=omitted,
    )


def _head_excerpt(part: _Part, body: int) -> Excerpt:
    complete = part.eof and not part.clipped
    return Excerpt(
        text=part.text,
        tokens=part.tokens,
        encoding=part.codec,
        complete=complete,
        limited_by=None if complete else ("tokens" if part.clipped else "bytes"),
        head_tokens=part.tokens,
        omitted_bytes=0 if complete else max(body - part.nbytes, 0),
    )


def iter_chunks(handle: BinaryIO, source: TextSource, *, chunk_tokens: int) -> Iterator[Chunk]:
    """The file in consecutive parts of at most ``chunk_tokens``, ending at a line when close.

    Holds one block and the not-yet-emitted text, never the file.
    """
    block = max(chunk_tokens * BYTES_PER_TOKEN, 4096)
    codec: str | None = None
    decoder: codecs.IncrementalDecoder | None = None
    pending = ""
    offset = source.bom
    eof = False
    while not eof:
        data = handle.read(block)
        eof = not data
        if decoder is None:
            codec = _choose_codec(data, source, final=eof)
            decoder = codecs.getincrementaldecoder(codec)("replace")
        assert codec is not None
        pending += decoder.decode(data, final=eof)
        while pending:
            kept, tokens = clip_tokens(pending, chunk_tokens)
            if len(kept) == len(pending) and not eof:
                break  # the next block may still belong to this chunk
            if len(kept) < len(pending):
                line_end = kept.rfind("\n") + 1
                if line_end >= len(kept) * 3 // 4:
                    kept = kept[:line_end]
                    tokens = count_tokens(kept)
            nbytes = len(kept.encode(codec, "replace"))
            yield Chunk(kept, tokens, offset, offset + nbytes)
            offset += nbytes
            pending = pending[len(kept) :]


# -- reading ---------------------------------------------------------------------------


def _read_head(handle: BinaryIO, source: TextSource, max_tokens: int, max_bytes: int) -> _Part:
    want = max(min(max_bytes, max_tokens * BYTES_PER_TOKEN), 0)
    data = handle.read(want)
    while True:
        eof = _at_end(handle, len(data), want)
        codec = _choose_codec(data, source, final=eof)
        text = codecs.getincrementaldecoder(codec)("replace").decode(data, final=eof)
        kept, tokens = clip_tokens(text, max_tokens)
        clipped = len(kept) < len(text)
        if clipped or eof or len(data) >= max_bytes:
            break
        # Token-sparse text: the byte estimate fell short; read more, within max_bytes.
        extra = min(max(len(data), SNIFF_BYTES), max_bytes - len(data))
        data += handle.read(extra)
        want += extra
    nbytes = len(data) if eof and not clipped else len(kept.encode(codec, "replace"))
    return _Part(kept, tokens, nbytes, codec, eof, clipped)


def _at_end(handle: BinaryIO, got: int, wanted: int) -> bool:
    if got < wanted:
        return True
    if not handle.read(1):
        return True
    handle.seek(-1, 1)
    return False


def _read_tail(
    handle: BinaryIO,
    codec: str,
    source: TextSource,
    size: int,
    start: int,
    max_tokens: int,
    max_bytes: int,
) -> _Part:
    """The end of the file, reading backwards from ``size`` but never before ``start``."""
    limit = max(min(max_bytes, size - start), 0)
    want = min(limit, max_tokens * BYTES_PER_TOKEN)
    while True:
        offset = size - want
        handle.seek(offset)
        data = handle.read(want)
        data = data[_partial_prefix(data, codec, offset - source.bom, source.unit) :]
        text = data.decode(codec, "replace")
        kept, tokens = clip_tokens(text, max_tokens, from_end=True)
        clipped = len(kept) < len(text)
        if clipped or want >= limit:
            break
        want = min(limit, want * 2)
    return _Part(kept, tokens, len(kept.encode(codec, "replace")), codec, True, clipped)


def _partial_prefix(data: bytes, codec: str, offset: int, unit: int) -> int:
    """Bytes to drop at the start of ``data`` read from ``offset``: a split character."""
    if unit > 1:
        return (-offset) % unit
    if codec != "utf-8":
        return 0
    skip = 0
    while skip < min(3, len(data)) and data[skip] & 0xC0 == 0x80:
        skip += 1
    return skip


def _choose_codec(data: bytes, source: TextSource, *, final: bool) -> str:
    if source.codec is not None:
        return source.codec
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(data, final=final)
    except UnicodeDecodeError:
        try:
            data.decode("cp1252")
        except UnicodeDecodeError:
            return "latin-1"
        return "cp1252"
    return "utf-8"
