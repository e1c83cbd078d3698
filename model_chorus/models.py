"""Shared vocabulary: the values that cross layer boundaries.

Plain dataclasses on purpose: they are built on every call and importing them
must stay cheap (``model-chorus --help`` loads this module). Validation of user
input happens in ``config.py`` with pydantic; internal values need none.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


def utcnow() -> datetime:
    """The one clock every stored timestamp comes from (timezone-aware UTC)."""
    return datetime.now(UTC)


def new_id() -> str:
    """Thread and correlation ids are uuid4 strings, as in the legacy JSON store."""
    return str(uuid.uuid4())


class Role(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"


@dataclass(frozen=True)
class TokenUsage:
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cached_input_tokens + other.cached_input_tokens,
        )

    def to_dict(self) -> dict[str, int]:
        return {**asdict(self), "total_tokens": self.total_tokens}


@dataclass(frozen=True)
class GenerationRequest:
    """One prompt for one provider; the provider decides how it reaches the tool."""

    prompt: str
    system_prompt: str | None = None
    model: str | None = None
    timeout: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GenerationResponse:
    content: str
    provider: str
    model: str | None = None
    usage: TokenUsage = field(default_factory=TokenUsage)
    latency_s: float = 0.0
    session_id: str | None = None
    #: How many attempts the middleware chain needed (1 without retries).
    attempts: int = 1
    #: Served from the response cache rather than a fresh call.
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "content": self.content,
            "usage": self.usage.to_dict(),
            "latency_ms": round(self.latency_s * 1000, 1),
            "session_id": self.session_id,
            "attempts": self.attempts,
            "cached": self.cached,
        }


@dataclass(frozen=True)
class Attempt:
    """One call to one provider as the middleware saw it; stored as a call record."""

    provider: str
    model: str | None
    outcome: str  # "ok" or the error kind, e.g. "rate_limited"
    latency_s: float
    error_message: str | None = None
    usage: TokenUsage = field(default_factory=TokenUsage)

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "outcome": self.outcome,
            "latency_ms": round(self.latency_s * 1000, 1),
            "error": self.error_message,
        }


@dataclass
class Message:
    role: Role
    content: str
    provider: str | None = None
    model: str | None = None
    files: list[str] = field(default_factory=list)
    input_tokens: int | None = None
    output_tokens: int | None = None
    created_at: datetime = field(default_factory=utcnow)
    metadata: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    thread_id: str | None = None
    seq: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "seq": self.seq,
            "role": str(self.role),
            "content": self.content,
            "provider": self.provider,
            "model": self.model,
            "files": list(self.files),
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "created_at": self.created_at.isoformat(),
            "metadata": self.metadata,
        }


class ThreadStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    ARCHIVED = "archived"


@dataclass
class Thread:
    id: str
    workflow: str
    title: str = ""
    status: ThreadStatus = ThreadStatus.ACTIVE
    parent_id: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    metadata: dict[str, Any] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
    message_count: int | None = None

    def to_dict(self, *, with_messages: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "workflow": self.workflow,
            "title": self.title,
            "status": str(self.status),
            "parent_id": self.parent_id,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "metadata": self.metadata,
            "message_count": (
                self.message_count if self.message_count is not None else len(self.messages)
            ),
        }
        if with_messages:
            data["messages"] = [m.to_dict() for m in self.messages]
        return data


@dataclass(frozen=True)
class Attachment:
    """A file's text as it goes into a prompt (already read, decoded and budgeted)."""

    path: str  # as shown to the user: relative to the working directory
    content: str
    tokens: int = 0
    #: Set when only part of the file fits; says what was kept ("first 4,000 tokens").
    note: str | None = None


@dataclass
class ProviderFailure:
    """A provider that did not answer, kept in results so partial failure is visible."""

    provider: str
    kind: str
    message: str
    hint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class WorkflowResult:
    """What every workflow returns; the OutputFormatter renders it for people or scripts.

    ``content`` is the headline answer. ``responses`` holds every provider answer
    that contributed, ``data`` the workflow's own structured result (votes,
    clusters, hypotheses ...), ``failures`` the providers that did not answer.
    """

    workflow: str
    thread_id: str
    content: str
    responses: list[GenerationResponse] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    failures: list[ProviderFailure] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    started_at: datetime = field(default_factory=utcnow)
    duration_s: float = 0.0
    continued: bool = False
    #: False when the run's new thread could not be saved: ``thread_id`` names nothing.
    thread_stored: bool = True

    @property
    def primary(self) -> GenerationResponse | None:
        return self.responses[-1] if self.responses else None

    @property
    def usage(self) -> TokenUsage:
        total = TokenUsage()
        for response in self.responses:
            total = total + response.usage
        return total
