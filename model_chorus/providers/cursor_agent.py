"""cursor-agent (Cursor's CLI agent) as a provider.

Command: ``cursor-agent -p --output-format json [--model M]`` with the prompt
(system prompt in a delimited block: no flag for one) on stdin. Stdin input
is **unconfirmed**: earlier wrappers pass the prompt as an argument, and the
tool is not on npm, so no real output was recorded. Stdin is used anyway
because an argument is capped at 128 KiB; if a release turns out to ignore
stdin, switch to ``-- PROMPT`` for short prompts here.

Output (from the provider-formats README): one JSON object shaped like Claude
Code's (``type: "result"``, ``is_error``, ``result``, ``session_id``,
``usage``); ``model`` may be absent. Never ``--force``: without it the agent
only proposes changes.
"""

from __future__ import annotations

from model_chorus.models import GenerationRequest, GenerationResponse
from model_chorus.providers.base import ArgRules, CLIProvider, merge_args
from model_chorus.providers.failures import error_from_message, failed_run, output_error
from model_chorus.providers.parsing import json_object, token_usage
from model_chorus.providers.registry import SPECS
from model_chorus.providers.runner import ProcessResult
from model_chorus.providers.system_prompt import inline_system_prompt

ARG_RULES = ArgRules(
    aliases={"-p": "--print", "-f": "--force", "-a": "--api-key"},
    switches=frozenset({"--print", "--force", "--yolo", "--stream-partial-output", "--fullscreen"}),
)

#: Output format and the flags that let the agent apply changes or run commands.
PROTECTED = frozenset({"--print", "--output-format", "--force", "--yolo"})


class CursorAgentProvider(CLIProvider):
    spec = SPECS["cursor-agent"]

    def build_command(self, request: GenerationRequest) -> list[str]:
        defaults = ["--output-format", "json"]
        if model := self.model_for(request):
            defaults += ["--model", model]
        args = merge_args(defaults, self.extra_args, protected=PROTECTED, rules=ARG_RULES)
        return [self.executable, "-p", *args]

    def stdin_text(self, request: GenerationRequest) -> str:
        return inline_system_prompt(request.prompt, request.system_prompt)

    def parse_output(self, result: ProcessResult, request: GenerationRequest) -> GenerationResponse:
        data = json_object(result.stdout)
        if data is None or data.get("type") != "result":
            if result.returncode != 0:
                raise failed_run(self.spec, result, result.stderr + "\n" + result.stdout)
            raise output_error(self.spec, result, "its output is not the JSON result object")
        if data.get("is_error") or data.get("subtype", "success") != "success":
            message = str(data.get("result") or data.get("error") or "the tool reported an error")
            raise error_from_message(self.spec, message, detail=result.stdout + result.stderr)
        answer = data.get("result")
        if not isinstance(answer, str):
            raise output_error(self.spec, result, "the JSON result has no `result` text")
        model = data.get("model")
        return GenerationResponse(
            content=answer,
            provider=self.name,
            model=model if isinstance(model, str) and model else self.model_for(request),
            usage=token_usage(data.get("usage")),
            latency_s=result.duration_s,
            session_id=data.get("session_id"),
        )
