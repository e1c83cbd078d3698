"""Text search over messages: the FTS5 index when the build has it, else a LIKE scan."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from model_chorus.errors import InputError
from model_chorus.models import Role
from model_chorus.store import rows, schema
from model_chorus.store.connection import StoreConnection

#: Marks the matched words in search snippets (Markdown bold reads well as plain text too).
HIGHLIGHT = ("**", "**")
_SNIPPET_CHARS = 160


@dataclass(frozen=True)
class SearchHit:
    thread_id: str
    workflow: str
    title: str
    message_id: int
    role: Role
    #: Text around the match, matched words wrapped in ``HIGHLIGHT``.
    snippet: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "thread_id": self.thread_id,
            "workflow": self.workflow,
            "title": self.title,
            "message_id": self.message_id,
            "role": str(self.role),
            "snippet": self.snippet,
            "created_at": self.created_at.isoformat(),
        }

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> SearchHit:
        return cls(
            thread_id=row[0],
            workflow=row[1],
            title=row[2],
            message_id=row[3],
            role=Role(row[4]),
            snippet=row[5],
            created_at=rows.dt(row[6]),
        )


def _fts_query(words: Sequence[str]) -> str:
    """User words as an FTS5 query: every word must occur; ``word*`` matches by prefix.

    Each word is quoted, so FTS5 operators (AND, NEAR, ``-``, ``:``) in what a
    person typed are searched for, never interpreted. Prefixes are opt-in
    because a short common prefix makes FTS5 merge huge doclists (hundreds of
    milliseconds at a million messages), while a whole word stays fast.
    """
    terms = []
    for word in words:
        core = word.rstrip("*")
        star = "*" if core != word and core else ""
        terms.append('"' + (core or word).replace('"', '""') + '"' + star)
    return " ".join(terms)


def _like_pattern(word: str) -> str:
    word = word.rstrip("*") or word
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _python_snippet(content: str, words: Sequence[str]) -> str:
    """Snippet for the LIKE fallback, shaped like FTS5's: text around the first match."""
    lowered = content.lower()
    words = [w.rstrip("*") or w for w in words]
    hits = [(lowered.find(w.lower()), w) for w in words]
    found = [(pos, w) for pos, w in hits if pos >= 0]
    if not found:
        return content[:_SNIPPET_CHARS]
    pos, word = min(found)
    start = max(pos - _SNIPPET_CHARS // 3, 0)
    end = min(start + _SNIPPET_CHARS, len(content))
    before, match, after = (
        content[start:pos],
        content[pos : pos + len(word)],
        content[pos + len(word) : end],
    )
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(content) else ""
    return f"{prefix}{before}{HIGHLIGHT[0]}{match}{HIGHLIGHT[1]}{after}{suffix}"


class SearchStore(StoreConnection):
    def search(self, text: str, *, limit: int = 20, workflow: str | None = None) -> list[SearchHit]:
        """Messages containing every word of ``text``, newest first.

        With FTS5, words match whole words ignoring case and accents, and
        ``word*`` matches words starting with ``word``. Without FTS5 (or for
        text with no letters or digits, which FTS5 cannot index) each word is
        matched as a substring with LIKE. Newest-first rather than by relevance:
        FTS5 walks its index backwards and stops at ``limit``, so a common word
        costs as little as a rare one.
        """
        words = text.split()
        if not words:
            raise InputError("The search text is empty.", hint="Give one or more words to find.")
        if workflow is not None and not self._has_workflow(workflow):
            return []  # spares walking every match of a common word for nothing
        if self.fts_enabled and any(ch.isalnum() for word in words for ch in word):
            return self._search_fts(words, limit, workflow)
        return self._search_like(words, limit, workflow)

    def _has_workflow(self, workflow: str) -> bool:
        with self._read("searching") as conn:
            row = conn.execute(
                "SELECT 1 FROM threads WHERE workflow = ? LIMIT 1", (workflow,)
            ).fetchone()
        return row is not None

    def _search_fts(self, words: list[str], limit: int, workflow: str | None) -> list[SearchHit]:
        fts = schema.FTS_TABLE
        sql = (
            "SELECT m.thread_id, t.workflow, t.title, m.id, m.role, "
            f"snippet({fts}, 0, ?, ?, '…', 16), m.created_at "
            f"FROM {fts} JOIN messages m ON m.id = {fts}.rowid "
            "JOIN threads t ON t.id = m.thread_id "
            f"WHERE {fts} MATCH ? "
            + ("AND t.workflow = ? " if workflow is not None else "")
            + f"ORDER BY {fts}.rowid DESC LIMIT ?"
        )
        params: list[Any] = [*HIGHLIGHT, _fts_query(words)]
        if workflow is not None:
            params.append(workflow)
        params.append(max(limit, 0))
        with self._read("searching") as conn:
            found = conn.execute(sql, params).fetchall()
        return [SearchHit.from_row(row) for row in found]

    def _search_like(self, words: list[str], limit: int, workflow: str | None) -> list[SearchHit]:
        conditions = ["m.content LIKE ? ESCAPE '\\'" for _ in words]
        params: list[Any] = [_like_pattern(w) for w in words]
        if workflow is not None:
            conditions.append("t.workflow = ?")
            params.append(workflow)
        sql = (
            "SELECT m.thread_id, t.workflow, t.title, m.id, m.role, m.content, m.created_at "
            "FROM messages m JOIN threads t ON t.id = m.thread_id "
            f"WHERE {' AND '.join(conditions)} ORDER BY m.id DESC LIMIT ?"
        )
        params.append(max(limit, 0))
        with self._read("searching") as conn:
            found = conn.execute(sql, params).fetchall()
        return [
            SearchHit.from_row((*row[:5], _python_snippet(row[5], words), row[6])) for row in found
        ]
