"""cursor-agent (Cursor's CLI agent) as a provider.

Command: ``cursor-agent -p --output-format json [--model M] -- PROMPT`` (the
system prompt in a delimited block at the top: no flag for one), the way
earlier wrappers call it, with stdin on /dev/null. The tool is not on npm, so
its behaviour could not be recorded here. A prompt past ``ARGV_PROMPT_LIMIT``
cannot travel as one argument (Linux caps one at 128 KiB); it goes on stdin
instead, which is **unconfirmed** for this tool — ``doctor --ping`` with a
real installation is the way to check.

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


#: Largest prompt (UTF-8 bytes) passed as the documented argument; larger ones use stdin.
ARGV_PROMPT_LIMIT = 100 * 1024


def _prompt(request: GenerationRequest) -> str:
    return inline_system_prompt(request.prompt, request.system_prompt)


def _fits_argv(text: str) -> bool:
    return len(text.encode("utf-8")) <= ARGV_PROMPT_LIMIT


class CursorAgentProvider(CLIProvider):
    spec = SPECS["cursor-agent"]

    def build_command(self, request: GenerationRequest) -> list[str]:
        defaults = ["--output-format", "json"]
        if model := self.model_for(request):
            defaults += ["--model", model]
        args = merge_args(defaults, self.extra_args, protected=PROTECTED, rules=ARG_RULES)
        prompt = _prompt(request)
        # `--` first: a prompt may start with "-".
        tail = ["--", prompt] if _fits_argv(prompt) else []
        return [self.executable, "-p", *args, *tail]

    def stdin_text(self, request: GenerationRequest) -> str | None:
        prompt = _prompt(request)
        return None if _fits_argv(prompt) else prompt

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
