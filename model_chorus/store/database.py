"""The conversation store: one SQLite file shared by every model-chorus process.

``ConversationDatabase`` is the one class callers use; its parts live in
modules named for what they hold:

* ``connection`` — opening the file (WAL, busy timeout, migrations) and the
  short read / ``BEGIN IMMEDIATE`` write transactions; the concurrency model.
* ``rows`` — value encoding and the statements shared inside transactions.
* ``threads`` — threads and messages.
* ``state`` — per-thread workflow state and ``save_turn`` (a turn in one
  transaction, its state merged with whatever other runs stored meanwhile).
* ``search`` — FTS5 / LIKE search.
* ``records`` — provider call records, breaker state, the response cache.
* ``reports`` — statistics and export.
"""

from __future__ import annotations

from model_chorus.store.connection import BUSY_TIMEOUT_S
from model_chorus.store.records import CallRecord, RecordStore
from model_chorus.store.reports import ReportStore
from model_chorus.store.rows import MIN_PREFIX_LEN
from model_chorus.store.search import HIGHLIGHT, SearchHit, SearchStore
from model_chorus.store.state import SavedTurn
from model_chorus.store.threads import LAST_THREAD

__all__ = [
    "BUSY_TIMEOUT_S",
    "HIGHLIGHT",
    "LAST_THREAD",
    "MIN_PREFIX_LEN",
    "CallRecord",
    "ConversationDatabase",
    "SavedTurn",
    "SearchHit",
]


class ConversationDatabase(ReportStore, SearchStore, RecordStore):
    """Threads, messages, workflow state, call records, breaker state and the response cache.

    Safe to share between threads of one process (one connection behind a lock)
    and between processes (SQLite locking, WAL). Opening is cheap: the schema is
    only touched when the file's version is behind the code's.
    """
