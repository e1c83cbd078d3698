"""chat: one model, many turns. The simplest workflow and the template for others."""

from __future__ import annotations

from model_chorus.models import WorkflowResult
from model_chorus.workflows.base import (
    Workflow,
    WorkflowInfo,
    WorkflowRequest,
    assistant_message,
    user_message,
)
from model_chorus.workflows.prompting import render_prompt
from model_chorus.workflows.registry import register
from model_chorus.workflows.requests import request_builder


@register
class ChatWorkflow(Workflow):
    info = WorkflowInfo(
        name="chat",
        summary="Talk to one model; continue the conversation later with --continue.",
        description=(
            "Sends your prompt, with any attached files and the earlier turns of the "
            "thread, to one provider. When it fails, the configured fallback providers "
            "are tried in order. Each turn is stored once; files are attached by name, "
            "not copied into history."
        ),
        policy="sequential",
        example='model-chorus chat "Explain WAL mode in SQLite" -p gemini',
        state="messages of the thread",
    )

    async def run(self, request: WorkflowRequest) -> WorkflowResult:
        thread = self.load_thread(request)
        history = self.history(thread, request)
        prompt = render_prompt(
            request.prompt,
            history=history.messages,
            omitted=history.omitted,
            attachments=request.attachments,
        )
        # -m names a model of the chosen provider; fallbacks use their own.
        request_for = request_builder(request, prompt, self.env.providers[0])
        outcome = await self.env.runner.sequential(self.env.providers, request_for)
        outcome.require(1, what="chat message")
        response = outcome.responses[0]

        continued = thread is not None
        thread = thread or self.new_thread(request)
        result = WorkflowResult(
            workflow=self.info.name,
            thread_id=thread.id,
            content=response.content,
            responses=[response],
            failures=outcome.failures,
            continued=continued,
            data={
                "history": history.summary(),
            },
        )
        # No state, so nothing to merge: turns of concurrent runs are all kept.
        self.save_turn(
            result,
            thread,
            [
                user_message(request),
                assistant_message(response),
            ],
            create=not continued,
        )
        return result
