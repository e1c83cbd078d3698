"""A second model-chorus run writing to the same database while a workflow is mid-run.

``AnotherRun`` writes through its own connection to the file, as a second
process would. ``Interfering`` wraps a provider so that write lands while the
workflow waits for an answer: after it read the thread's state, before it saves.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from model_chorus.models import GenerationRequest, GenerationResponse
from model_chorus.providers.base import ModelProvider
from model_chorus.store.database import ConversationDatabase

OTHER_STATE: dict[str, Any] = {"written_by": "another run"}


class AnotherRun:
    def __init__(self, path: Path) -> None:
        self.path = path

    def set_state(self, thread_id: str, key: str, value: dict[str, Any] = OTHER_STATE) -> None:
        with ConversationDatabase(self.path) as db:
            db.set_state(db.resolve_thread_id(thread_id), key, value)


class Interfering:
    """Runs ``interfere`` just before answering call number ``on_call`` (1 = the first)."""

    def __init__(
        self, inner: ModelProvider, interfere: Callable[[], None], *, on_call: int = 1
    ) -> None:
        self.name = inner.name
        self.inner = inner
        self.interfere = interfere
        self.on_call = on_call
        self.calls = 0

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        self.calls += 1
        if self.calls == self.on_call:
            self.interfere()
        return await self.inner.generate(request)
