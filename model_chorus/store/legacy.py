"""Import of the earlier model-chorus store: one JSON file per thread.

Those files live in ``~/.model-chorus/conversations/<thread_id>.json``, each
beside an empty ``.json.lock``. Older files may lack fields, and workflow names
come capitalised ("ThinkDeep"); both are normalised here.

The import is safe to repeat and to interrupt: each thread goes in with its
messages and state in one transaction, threads already present are skipped,
and parent links are set in a second pass once every thread is in, so a child
file listed before its parent keeps its link. Source files are only
ever read. A dry run reads the database but never opens a write transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from model_chorus.errors import InputError
from model_chorus.models import Message, Role, Thread, ThreadStatus
from model_chorus.store.database import ConversationDatabase

#: Marks imported threads in their metadata (``metadata["source"]``).
SOURCE = "legacy-json"
_TITLE_LIMIT = 80


@dataclass(frozen=True)
class ImportFailure:
    path: Path
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"path": str(self.path), "reason": self.reason}


@dataclass
class ImportReport:
    """What an import found and did; in a dry run, what it would do."""

    directory: Path
    dry_run: bool = False
    #: Thread files seen (``*.json``; lock files and other names are not counted).
    found: int = 0
    imported: list[str] = field(default_factory=list)
    #: Already in the database (from an earlier run, or a second file with the same id).
    skipped: list[str] = field(default_factory=list)
    failed: list[ImportFailure] = field(default_factory=list)
    #: Things kept with a change, e.g. a parent link that could not be restored.
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "dry_run": self.dry_run,
            "found": self.found,
            "imported": list(self.imported),
            "skipped": list(self.skipped),
            "failed": [f.to_dict() for f in self.failed],
            "notes": list(self.notes),
        }


class _BadFile(Exception):
    """A file that cannot be imported; the message is the reason shown to the user."""


@dataclass
class _Parsed:
    path: Path
    thread: Thread
    state: dict[str, dict[str, Any]]
    parent_id: str | None


def import_legacy(
    db: ConversationDatabase, directory: Path, *, dry_run: bool = False
) -> ImportReport:
    directory = Path(directory).expanduser()
    if not directory.is_dir():
        raise InputError(
            f"No legacy conversation directory at {directory}.",
            hint="Pass the folder holding the old <thread-id>.json files "
            "(by default ~/.model-chorus/conversations).",
        )
    report = ImportReport(directory=directory, dry_run=dry_run)
    parsed: list[_Parsed] = []
    seen: set[str] = set()
    for path in sorted(p for p in directory.glob("*.json") if p.is_file()):
        report.found += 1
        try:
            item = _parse_file(path)
        except _BadFile as exc:
            report.failed.append(ImportFailure(path, str(exc)))
            continue
        if item.thread.id in seen:
            report.skipped.append(item.thread.id)
            report.notes.append(f"{path.name}: thread {item.thread.id} appears in another file too")
            continue
        seen.add(item.thread.id)
        parsed.append(item)

    present = db.existing_thread_ids([p.thread.id for p in parsed])
    for item in parsed:
        if item.thread.id in present:
            report.skipped.append(item.thread.id)
        elif dry_run or db.import_thread(item.thread, state=item.state):
            report.imported.append(item.thread.id)
        else:  # another process imported it since we looked
            report.skipped.append(item.thread.id)

    _link_parents(db, parsed, report, dry_run=dry_run)
    return report


def _link_parents(
    db: ConversationDatabase, parsed: list[_Parsed], report: ImportReport, *, dry_run: bool
) -> None:
    """Second pass: parents exist now whatever the file order; missing ones are reported."""
    wanted = [p for p in parsed if p.parent_id]
    if not wanted:
        return
    parent_ids = [p.parent_id for p in wanted if p.parent_id]
    available = db.existing_thread_ids(parent_ids)
    if dry_run:
        available |= {p.thread.id for p in parsed}
    # Only threads this run imported get linked; a skipped thread keeps what it has.
    imported = set(report.imported)
    for item in wanted:
        if item.thread.id not in imported:
            continue
        if item.parent_id in available:
            if not dry_run:
                db.set_parent(item.thread.id, item.parent_id)
        else:
            report.notes.append(
                f"{item.path.name}: parent thread {item.parent_id} is missing or failed to "
                "import; imported without a parent link"
            )


# -- parsing -------------------------------------------------------------------------


def _parse_file(path: Path) -> _Parsed:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _BadFile(f"cannot be read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _BadFile("is not UTF-8 text") from None
    if not text.strip():
        raise _BadFile("is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _BadFile(
            f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "it may be truncated"
        ) from None
    if not isinstance(data, dict):
        raise _BadFile("does not hold a conversation object")
    return _parse_thread(path, data)


def _parse_thread(path: Path, data: dict[str, Any]) -> _Parsed:
    thread_id = _opt_str(data, "thread_id") or path.stem
    raw_messages = data.get("messages") or []
    if not isinstance(raw_messages, list):
        raise _BadFile("'messages' is not a list")
    fallback_time = _file_time(path)
    created = _opt_time(data, "created_at")
    updated = _opt_time(data, "last_updated_at")
    first_message_time = _message_time(raw_messages[0]) if raw_messages else None
    last_message_time = _message_time(raw_messages[-1]) if raw_messages else None
    created = created or first_message_time or updated or fallback_time
    updated = updated or last_message_time or created

    workflow = (_opt_str(data, "workflow_name") or "unknown").strip().lower() or "unknown"
    messages = [
        _parse_message(raw, index, created) for index, raw in enumerate(raw_messages, start=1)
    ]
    status_text = (_opt_str(data, "status") or "active").lower()
    try:
        status = ThreadStatus(status_text)
    except ValueError:
        raise _BadFile(f"has an unknown status {status_text!r}") from None

    siblings = data.get("sibling_threads") or []
    metadata: dict[str, Any] = {
        "source": SOURCE,
        "initial_context": _opt_dict(data, "initial_context"),
        "branch_point": data.get("branch_point"),
        "sibling_threads": siblings if isinstance(siblings, list) else [],
    }
    parent_id = _opt_str(data, "parent_thread_id")
    if parent_id:
        metadata["legacy_parent_thread_id"] = parent_id

    state_obj = _opt_dict(data, "state")
    state = {
        key: value if isinstance(value, dict) else {"value": value}
        for key, value in state_obj.items()
    }
    thread = Thread(
        id=thread_id,
        workflow=workflow,
        title=_title(messages),
        status=status,
        created_at=created,
        updated_at=updated,
        metadata=metadata,
        messages=messages,
        message_count=len(messages),
    )
    return _Parsed(path=path, thread=thread, state=state, parent_id=parent_id or None)


def _parse_message(raw: Any, index: int, default_time: datetime) -> Message:
    if not isinstance(raw, dict):
        raise _BadFile(f"message {index} is not an object")
    role_text = str(raw.get("role") or "").lower()
    try:
        role = Role(role_text)
    except ValueError:
        raise _BadFile(f"message {index} has an unknown role {role_text!r}") from None
    content = raw.get("content")
    if not isinstance(content, str):
        raise _BadFile(f"message {index} has no text content")
    files = raw.get("files") or []
    if not isinstance(files, list):
        files = [files]
    metadata = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
    return Message(
        role=role,
        content=content,
        provider=_opt_str(raw, "model_provider"),
        model=_opt_str(raw, "model_name"),
        files=[str(f) for f in files],
        created_at=_message_time(raw) or default_time,
        metadata=dict(metadata or {}),
    )


def _title(messages: list[Message]) -> str:
    """The first user turn's first line, as new threads are titled."""
    for message in messages:
        if message.role == Role.USER:
            line = next((s.strip() for s in message.content.splitlines() if s.strip()), "")
            if len(line) <= _TITLE_LIMIT:
                return line
            return line[:_TITLE_LIMIT].rsplit(" ", 1)[0] + "…"
    return ""


def _opt_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def _opt_dict(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return dict(value) if isinstance(value, dict) else {}


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _opt_time(data: dict[str, Any], key: str) -> datetime | None:
    return _parse_time(data.get(key))


def _message_time(raw: Any) -> datetime | None:
    return _parse_time(raw.get("timestamp")) if isinstance(raw, dict) else None


def _file_time(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
