"""What every workflow shares: its metadata, its inputs, its environment.

A workflow receives providers that are already wrapped in middleware and a
conversation store; it never spawns processes, opens SQLite or prints. That
is what makes each workflow testable with an in-memory provider and a
temporary database.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from model_chorus.context.history import ConversationHistory, build_conversation_history
from model_chorus.context.tokens import count_tokens
from model_chorus.errors import InputError, StoreError, ThreadNotFoundError, TurnNotSavedError
from model_chorus.events import EventKind, EventSink, WorkflowEvent, ignore_events
from model_chorus.models import Attachment, GenerationResponse, Message, Role, Thread, new_id
from model_chorus.workflows.runner import WorkflowRunner

if TYPE_CHECKING:
    from model_chorus.config import Settings
    from model_chorus.models import WorkflowResult
    from model_chorus.providers.base import ModelProvider
    from model_chorus.store.database import ConversationDatabase
    from model_chorus.store.state import SavedTurn, StateMerge

#: Tokens kept free in the context window for the model's answer and tool overhead.
ANSWER_RESERVE_TOKENS = 4_000


@dataclass(frozen=True)
class WorkflowInfo:
    """Registry metadata: what ``list-workflows`` and the generated docs show."""

    name: str
    summary: str
    description: str
    multi_provider: bool = False
    #: Execution policy of the WorkflowRunner the workflow uses by default.
    policy: str = "sequential"
    example: str = ""
    #: Workflow-specific state kept between runs (for ``--continue``), in words.
    state: str = ""
    #: Options that carry the run's text themselves, so that with any of them given
    #: the prompt is optional (thinkdeep's ``step``: an agent's manual step).
    prompt_optional_with: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "summary": self.summary,
            "description": self.description,
            "multi_provider": self.multi_provider,
            "policy": self.policy,
            "example": self.example,
            "state": self.state,
            "prompt_optional_with": list(self.prompt_optional_with),
        }


@dataclass
class WorkflowRequest:
    prompt: str
    #: Continue this thread (full id, already resolved from a prefix by the caller).
    thread_id: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    system_prompt: str | None = None
    #: ``-m``: applies to the primary provider only.
    model: str | None = None
    timeout: float | None = None
    #: Workflow-specific options (``rounds``, ``strategy`` ...), validated by the workflow.
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class WorkflowEnv:
    store: ConversationDatabase
    #: Ordered: the primary first, then fallbacks (or the fan-out set).
    providers: list[ModelProvider]
    settings: Settings
    runner: WorkflowRunner = field(default_factory=WorkflowRunner)
    events: EventSink = ignore_events
    #: Tokens the smallest involved provider accepts.
    context_window: int = 100_000
    #: Providers picked for a role by a workflow option (``--skeptic gemini``,
    #: ``--synthesizer claude``, ``--expert codex``), keyed by the option's name.
    roles: dict[str, ModelProvider] = field(default_factory=dict)


class Workflow(ABC):
    info: ClassVar[WorkflowInfo]

    def __init__(self, env: WorkflowEnv) -> None:
        self.env = env

    @property
    def store(self) -> ConversationDatabase:
        return self.env.store

    @abstractmethod
    async def run(self, request: WorkflowRequest) -> WorkflowResult:
        """Do the work, store what should be remembered, return the result."""

    # -- helpers shared by workflows -------------------------------------------------

    def load_thread(self, request: WorkflowRequest) -> Thread | None:
        """The thread to continue, or None for a new conversation."""
        if request.thread_id is None:
            return None
        thread = self.store.get_thread(request.thread_id, with_messages=False)
        if thread.workflow != self.info.name:
            raise InputError(
                f"Thread {thread.id} belongs to the {thread.workflow!r} workflow, "
                f"not {self.info.name!r}.",
                hint=f"Continue it with `model-chorus {thread.workflow} --continue {thread.id}`.",
            )
        return thread

    def new_thread(self, request: WorkflowRequest, **metadata: Any) -> Thread:
        """The thread a run starts, not yet stored: ``store.save_turn(..., create=True)``
        stores it together with its first turn, so no thread is ever left without one."""
        return Thread(
            id=new_id(),
            workflow=self.info.name,
            title=title_from(request.prompt),
            metadata=metadata,
        )

    def save_turn(
        self,
        result: WorkflowResult,
        thread: Thread,
        messages: Sequence[Message],
        *,
        create: bool,
        state_key: str | None = None,
        merge: StateMerge | None = None,
        thread_stored: bool | None = None,
        kept: str | None = None,
    ) -> SavedTurn:
        """Store a turn (see ``ConversationDatabase.save_turn``). When the store fails,
        raise ``TurnNotSavedError`` carrying ``result``: the providers answered and the
        tokens are spent, so the answer must still reach the user.

        ``thread_stored`` and ``kept`` describe what the thread holds without this
        turn (default: a continued thread keeps its earlier turns, a new one is not
        created).
        """
        try:
            return self.store.save_turn(
                thread, messages, create=create, state_key=state_key, merge=merge
            )
        except ThreadNotFoundError as exc:
            # Deleted by another process while this run waited for the providers.
            raise TurnNotSavedError(
                result, exc, thread_stored=False, kept=f"thread {thread.id} was deleted meanwhile"
            ) from exc
        except StoreError as exc:
            raise TurnNotSavedError(result, exc, thread_stored=thread_stored, kept=kept) from exc

    def history(self, thread: Thread | None, request: WorkflowRequest) -> ConversationHistory:
        """Earlier turns of ``thread`` that fit next to the prompt and attachments."""
        if thread is None:
            return ConversationHistory(messages=[], token_count=0, omitted=0)
        used = count_tokens(request.prompt) + sum(a.tokens for a in request.attachments)
        used += count_tokens(request.system_prompt or "")
        budget = max(self.env.context_window - used - ANSWER_RESERVE_TOKENS, 0)
        return build_conversation_history(
            self.store, thread.id, budget, self.env.settings.context.history_strategy
        )

    def role_provider(self, role: str, default_index: int = 0) -> ModelProvider:
        """The provider chosen for ``role``, else ``providers[default_index]`` (wrapping)."""
        if role in self.env.roles:
            return self.env.roles[role]
        return self.env.providers[default_index % len(self.env.providers)]

    def emit(self, kind: EventKind, message: str, provider: str | None = None) -> None:
        self.env.events(WorkflowEvent(kind, message, provider))


def title_from(prompt: str, limit: int = 80) -> str:
    """A thread title: the prompt's first line, shortened on a word boundary."""
    first = next((line.strip() for line in prompt.splitlines() if line.strip()), "")
    if len(first) <= limit:
        return first
    cut = first[:limit].rsplit(" ", 1)[0]
    return cut + "…"


def user_message(request: WorkflowRequest, **metadata: Any) -> Message:
    """The user's turn as stored: the prompt and the names of attached files, not their text."""
    return Message(
        role=Role.USER,
        content=request.prompt,
        files=[a.path for a in request.attachments],
        metadata=metadata,
    )


def assistant_message(response: GenerationResponse, **metadata: Any) -> Message:
    """A provider's answer as stored: who answered, its tokens, attempts and latency."""
    return Message(
        role=Role.ASSISTANT,
        content=response.content,
        provider=response.provider,
        model=response.model,
        input_tokens=response.usage.input_tokens,
        output_tokens=response.usage.output_tokens,
        metadata={**metadata, "attempts": response.attempts, "latency_s": response.latency_s},
    )


def int_option(
    options: dict[str, Any],
    name: str,
    *,
    flag: str,
    default: int,
    low: int = 1,
    high: int | None = None,
    hint: str | None = None,
) -> int:
    """A whole-number workflow option within its bounds, or an InputError naming ``flag``.

    The CLI already enforces the bounds; library callers pass ``options`` by hand.
    """
    value = options.get(name)
    if value is None:
        return default
    in_range = isinstance(value, int) and not isinstance(value, bool) and value >= low
    if not in_range or (high is not None and value > high):
        bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise InputError(f"{flag} must be a whole number {bounds}, not {value!r}.", hint=hint)
    return int(value)
