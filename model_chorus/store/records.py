"""What the provider middleware keeps between runs: call records, breaker state, cached answers.

These tables outlive any thread (no foreign keys): usage statistics and a
tripped breaker stay when conversations are deleted.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from model_chorus.models import Attempt, utcnow
from model_chorus.store.connection import StoreConnection
from model_chorus.store.rows import dt, to_json, ts


@dataclass(frozen=True)
class CallRecord:
    """One provider attempt as stored; ``model-chorus stats`` aggregates these."""

    provider: str
    model: str | None
    outcome: str
    latency_s: float
    error_message: str | None
    input_tokens: int
    output_tokens: int
    correlation_id: str
    thread_id: str | None
    workflow: str | None
    created_at: datetime

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def _put_breaker(conn: sqlite3.Connection, provider: str, state: dict[str, Any]) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO breakers (provider, state, updated_at) VALUES (?, ?, ?)",
        (provider, to_json(state), ts(utcnow())),
    )


class RecordStore(StoreConnection):
    # -- provider call records -------------------------------------------------------

    def record_call(
        self,
        attempt: Attempt,
        *,
        correlation_id: str,
        thread_id: str | None = None,
        workflow: str | None = None,
        created_at: datetime | None = None,
    ) -> None:
        with self._write("recording a provider call") as conn:
            conn.execute(
                "INSERT INTO call_records (created_at, correlation_id, thread_id, workflow, "
                "provider, model, outcome, latency_s, error_message, input_tokens, output_tokens) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    ts(created_at or utcnow()),
                    correlation_id,
                    thread_id,
                    workflow,
                    attempt.provider,
                    attempt.model,
                    attempt.outcome,
                    float(attempt.latency_s),
                    attempt.error_message,
                    attempt.usage.input_tokens,
                    attempt.usage.output_tokens,
                ),
            )

    def call_records(self, *, since: datetime | None = None) -> list[CallRecord]:
        """Provider attempts, oldest first; only those at or after ``since`` when given."""
        sql = (
            "SELECT provider, model, outcome, latency_s, error_message, input_tokens, "
            "output_tokens, correlation_id, thread_id, workflow, created_at FROM call_records"
        )
        params: tuple[Any, ...] = ()
        if since is not None:
            sql += " WHERE created_at >= ?"
            params = (ts(since),)
        sql += " ORDER BY created_at, id"
        with self._read("reading call records") as conn:
            found = conn.execute(sql, params).fetchall()
        return [
            CallRecord(
                provider=row[0],
                model=row[1],
                outcome=row[2],
                latency_s=row[3],
                error_message=row[4],
                input_tokens=row[5],
                output_tokens=row[6],
                correlation_id=row[7],
                thread_id=row[8],
                workflow=row[9],
                created_at=dt(row[10]),
            )
            for row in found
        ]

    # -- circuit breaker state -------------------------------------------------------

    def get_breaker(self, provider: str) -> dict[str, Any] | None:
        with self._read("reading breaker state") as conn:
            row = conn.execute(
                "SELECT state FROM breakers WHERE provider = ?", (provider,)
            ).fetchone()
        if row is None:
            return None
        state: dict[str, Any] = json.loads(row[0])
        return state

    def set_breaker(self, provider: str, state: dict[str, Any]) -> None:
        with self._write("saving breaker state") as conn:
            _put_breaker(conn, provider, state)

    def update_breaker(
        self, provider: str, fn: Callable[[dict[str, Any] | None], dict[str, Any]]
    ) -> dict[str, Any]:
        """Read-modify-write under the write lock, so concurrent processes never lose an update.

        ``fn`` runs inside the transaction: keep it quick and free of I/O.
        """
        with self._write("updating breaker state") as conn:
            row = conn.execute(
                "SELECT state FROM breakers WHERE provider = ?", (provider,)
            ).fetchone()
            new_state = fn(json.loads(row[0]) if row else None)
            _put_breaker(conn, provider, new_state)
        return new_state

    # -- response cache --------------------------------------------------------------

    def cache_get(self, key: str) -> str | None:
        """The cached value, or None when missing or expired (expired rows go at the next put)."""
        with self._read("reading the response cache") as conn:
            row = conn.execute(
                "SELECT value FROM response_cache WHERE key = ? AND expires_at > ?",
                (key, time.time()),
            ).fetchone()
        return None if row is None else str(row[0])

    def cache_put(self, key: str, value: str, *, ttl_s: float) -> None:
        now = time.time()
        with self._write("writing the response cache") as conn:
            conn.execute("DELETE FROM response_cache WHERE expires_at <= ?", (now,))
            conn.execute(
                "INSERT OR REPLACE INTO response_cache (key, value, expires_at) VALUES (?, ?, ?)",
                (key, value, now + ttl_s),
            )
