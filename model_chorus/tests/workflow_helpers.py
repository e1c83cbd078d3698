"""Building a workflow's environment in tests, the way the CLI does, minus the CLI."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from model_chorus.config import Settings
from model_chorus.events import WorkflowEvent
from model_chorus.providers.base import ModelProvider
from model_chorus.store.database import ConversationDatabase
from model_chorus.workflows.base import WorkflowEnv
from model_chorus.workflows.runner import WorkflowRunner


def workflow_env(
    store: ConversationDatabase,
    providers: Sequence[ModelProvider],
    *,
    roles: dict[str, ModelProvider] | None = None,
    settings: Settings | None = None,
    events: list[WorkflowEvent] | None = None,
) -> WorkflowEnv:
    """Providers in order (primary first); ``events``, when given, collects every event."""
    sink = events.append if events is not None else (lambda event: None)
    return WorkflowEnv(
        store=store,
        providers=list(providers),
        settings=settings or Settings(),
        runner=WorkflowRunner(sink),
        events=sink,
        roles=roles or {},
    )


def stored_state(store: ConversationDatabase, thread_id: str, key: str) -> dict[str, Any]:
    state = store.get_state(thread_id, key)
    assert state is not None, f"no {key} state stored"
    return state
