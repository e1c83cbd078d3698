"""Read-only views for people: whole-database statistics and one thread exported."""

from __future__ import annotations

import json
from contextlib import suppress
from pathlib import Path
from typing import Any, Literal

from model_chorus.errors import InputError
from model_chorus.models import Role, Thread
from model_chorus.store.state import StateStore
from model_chorus.store.threads import ThreadStore


def thread_markdown(thread: Thread, state: dict[str, dict[str, Any]]) -> str:
    lines = [f"# {thread.title or thread.workflow + ' thread'}", ""]
    lines += [
        f"- **Thread:** `{thread.id}`",
        f"- **Workflow:** {thread.workflow}",
        f"- **Status:** {thread.status}",
        f"- **Created:** {thread.created_at.isoformat()}",
        f"- **Updated:** {thread.updated_at.isoformat()}",
    ]
    if thread.parent_id:
        lines.append(f"- **Parent:** `{thread.parent_id}`")
    lines.append("")
    for message in thread.messages:
        who = "User" if message.role == Role.USER else str(message.role).capitalize()
        source = " · ".join(x for x in (message.provider, message.model) if x)
        heading = f"## {message.seq}. {who}" + (f" ({source})" if source else "")
        lines += [heading, "", f"*{message.created_at.isoformat()}*", ""]
        if message.files:
            lines += ["Files: " + ", ".join(f"`{name}`" for name in message.files), ""]
        lines += [message.content, ""]
    if state:
        lines += ["## Workflow state", ""]
        for key, value in state.items():
            body = json.dumps(value, ensure_ascii=False, indent=2)
            lines += [f"### {key}", "", "```json", body, "```", ""]
    return "\n".join(lines).rstrip() + "\n"


class ReportStore(ThreadStore, StateStore):
    def stats(self) -> dict[str, Any]:
        with self._read("collecting statistics") as conn:
            threads = conn.execute("SELECT count(*) FROM threads").fetchone()[0]
            messages = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
            by_workflow = dict(
                conn.execute(
                    "SELECT workflow, count(*) FROM threads GROUP BY workflow ORDER BY workflow"
                ).fetchall()
            )
            oldest, newest = conn.execute(
                "SELECT min(created_at), max(updated_at) FROM threads"
            ).fetchone()
            calls = conn.execute("SELECT count(*) FROM call_records").fetchone()[0]
        size = 0
        for suffix in ("", "-wal"):
            with suppress(OSError):
                size += Path(f"{self.path}{suffix}").stat().st_size
        return {
            "path": str(self.path),
            "schema_version": self.schema_version,
            "threads": threads,
            "messages": messages,
            "by_workflow": by_workflow,
            "call_records": calls,
            "oldest_thread": oldest,
            "newest_activity": newest,
            "size_bytes": size,
            "fts": self.fts_enabled,
        }

    def export_thread(self, thread_id: str, fmt: Literal["md", "json"]) -> str:
        """The whole thread (messages and workflow state) as Markdown or a JSON document."""
        thread = self.get_thread(thread_id)
        state = self.get_all_state(thread.id)
        if fmt == "json":
            data = {"export_version": 1, **thread.to_dict(with_messages=True), "state": state}
            return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        if fmt == "md":
            return thread_markdown(thread, state)
        raise InputError(f"Unknown export format {fmt!r}.", hint="Use md or json.")
