"""How a workflow's options become each provider's GenerationRequest.

Shared because every multi-provider workflow has the same rule to get right:
``-m`` names a model of the *primary* provider only, so any other provider
(a fallback, a fan-out member, a role such as ``--skeptic``) uses its own
configured model.
"""

from __future__ import annotations

from collections.abc import Callable

from model_chorus.models import GenerationRequest
from model_chorus.providers.base import ModelProvider
from model_chorus.workflows.base import WorkflowRequest


def request_builder(
    request: WorkflowRequest, prompt: str, primary: ModelProvider
) -> Callable[[ModelProvider], GenerationRequest]:
    """A ``RequestFor`` for the WorkflowRunner: ``prompt`` with the request's system
    prompt and timeout, and ``request.model`` only when asking ``primary``.

    A continued thread's id rides along in the metadata, so call records name it.
    """
    metadata = {"thread_id": request.thread_id} if request.thread_id else {}

    def build(provider: ModelProvider) -> GenerationRequest:
        return GenerationRequest(
            prompt=prompt,
            system_prompt=request.system_prompt,
            model=request.model if provider is primary else None,
            timeout=request.timeout,
            metadata=metadata,
        )

    return build
