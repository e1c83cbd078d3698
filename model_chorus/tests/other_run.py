"""A second model-chorus run writing to the same database while a workflow is mid-run.

``other_store`` opens the file through a connection of its own, as a second
process would; a workflow built on it is "another run". ``Interfering`` wraps
a provider so that the other run happens while the workflow waits for an
answer: after it read the thread's state, before it saves.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from pathlib import Path

from model_chorus.models import GenerationRequest, GenerationResponse
from model_chorus.providers.base import ModelProvider
from model_chorus.store.database import ConversationDatabase


def other_store(path: Path) -> ConversationDatabase:
    """The database as another process sees it: its own connection (close it after use)."""
    return ConversationDatabase(path)


class Interfering:
    """Runs ``interfere`` (awaited when it returns an awaitable) just before answering
    call number ``on_call`` (1 = the first)."""

    def __init__(
        self,
        inner: ModelProvider,
        interfere: Callable[[], Awaitable[object] | object],
        *,
        on_call: int = 1,
    ) -> None:
        self.name = inner.name
        self.inner = inner
        self.interfere = interfere
        self.on_call = on_call
        self.calls = 0

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        self.calls += 1
        if self.calls == self.on_call:
            done = self.interfere()
            if inspect.isawaitable(done):
                await done
        return await self.inner.generate(request)
