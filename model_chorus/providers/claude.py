"""Claude Code (``claude``) as a provider.

Command: ``claude -p --tools Read,Grep,Glob --disallowed-tools "Bash Edit ..."
--strict-mcp-config --output-format json [--model M] [--append-system-prompt S]``,
prompt on stdin. The tool prints one JSON object on success *and* on failure
(``is_error``), so the exit code alone decides nothing.
``CLAUDE_CODE_MAX_RETRIES=0`` stops its own retries, which otherwise outlast
any timeout of ours (minutes of backoff).

Read-only is an allow-list: ``--tools`` names the only built-in tools the
model gets (a tool a new version adds is not among them; a name this version
lacks is simply absent), ``--strict-mcp-config`` without ``--mcp-config``
loads no MCP server from the user's or the project's configuration, and the
old deny list stays as a second guard. ``--allowed-tools`` would only
pre-approve tools, never shrink the set, so it is no guard at all.

Token counts: ``input_tokens`` includes cache reads and writes, as the other
providers report it; ``cached_input_tokens`` is the cache-read part.
"""

from __future__ import annotations

from typing import Any

from model_chorus.errors import ProviderBadRequestError, ProviderError
from model_chorus.models import GenerationRequest, GenerationResponse
from model_chorus.providers.base import ArgRules, CLIProvider, merge_args
from model_chorus.providers.failures import error_from_message, failed_run, output_error
from model_chorus.providers.parsing import json_object, token_usage
from model_chorus.providers.registry import SPECS
from model_chorus.providers.runner import ProcessResult
from model_chorus.providers.system_prompt import inline_system_prompt

#: The only built-in tools the model gets (``--tools``): reading and searching files.
READ_ONLY_TOOLS = ("Read", "Grep", "Glob")

#: Tools that write files, run commands or start agents that could; also removed from
#: the model's tool set, in case a version ignores or widens ``--tools``.
READ_ONLY_DENIED_TOOLS = (
    "Bash",
    "BashOutput",
    "KillShell",
    "Edit",
    "MultiEdit",
    "Write",
    "NotebookEdit",
    "Task",
    "Workflow",
    "EnterWorktree",
    "ExitWorktree",
    "CronCreate",
    "CronDelete",
    "ScheduleWakeup",
)

#: A system prompt longer than this goes on stdin: one argv string is capped at 128 KiB.
MAX_ARGV_SYSTEM_PROMPT_BYTES = 64 * 1024

ARG_RULES = ArgRules(
    aliases={
        "-p": "--print",
        "--allowedTools": "--allowed-tools",
        "--disallowedTools": "--disallowed-tools",
        "-c": "--continue",
        "-r": "--resume",
        "-d": "--debug",
    },
    switches=frozenset(
        {
            "--print",
            "--verbose",
            "--dangerously-skip-permissions",
            "--allow-dangerously-skip-permissions",
            "--strict-mcp-config",
            "--continue",
            "--no-session-persistence",
            "--include-partial-messages",
            "--fork-session",
        }
    ),
    variadic=frozenset(
        {"--allowed-tools", "--disallowed-tools", "--tools", "--mcp-config", "--add-dir"}
    ),
)

#: The user's extra_args may not touch these: output format and the read-only guards
#: (settings and MCP configs can add tools, permissions or servers of their own).
PROTECTED = frozenset(
    {
        "--print",
        "--output-format",
        "--input-format",
        "--tools",
        "--disallowed-tools",
        "--allowed-tools",
        "--strict-mcp-config",
        "--mcp-config",
        "--settings",
        "--permission-mode",
        "--dangerously-skip-permissions",
        "--allow-dangerously-skip-permissions",
    }
)


class ClaudeProvider(CLIProvider):
    spec = SPECS["claude"]

    def build_command(self, request: GenerationRequest) -> list[str]:
        # The tool lists take several values: a flag must follow each, never a stray argument.
        defaults = [
            "--tools",
            ",".join(READ_ONLY_TOOLS),
            "--disallowed-tools",
            " ".join(READ_ONLY_DENIED_TOOLS),
            "--strict-mcp-config",
            "--output-format",
            "json",
        ]
        if model := self.model_for(request):
            defaults += ["--model", model]
        if self._system_in_argv(request):
            defaults += ["--append-system-prompt", request.system_prompt or ""]
        args = merge_args(defaults, self.extra_args, protected=PROTECTED, rules=ARG_RULES)
        return [self.executable, "-p", *args]

    def build_env(self) -> dict[str, str]:
        env = super().build_env()
        env["CLAUDE_CODE_MAX_RETRIES"] = "0"
        return env

    def stdin_text(self, request: GenerationRequest) -> str:
        if request.system_prompt and not self._system_in_argv(request):
            return inline_system_prompt(request.prompt, request.system_prompt)
        return request.prompt

    @staticmethod
    def _system_in_argv(request: GenerationRequest) -> bool:
        system = request.system_prompt
        return (
            system is not None and 0 < len(system.encode("utf-8")) <= MAX_ARGV_SYSTEM_PROMPT_BYTES
        )

    def parse_output(self, result: ProcessResult, request: GenerationRequest) -> GenerationResponse:
        data = json_object(result.stdout)
        if data is None or data.get("type") != "result":
            if result.returncode != 0:
                raise failed_run(self.spec, result, result.stdout + "\n" + result.stderr)
            raise output_error(self.spec, result, "its output is not the JSON result object")
        # ``is_error`` decides, not the exit code: failures exit 0 or 1 alike.
        if data.get("is_error") or data.get("subtype") != "success":
            raise self._failure(data, result)
        answer = data.get("result")
        if not isinstance(answer, str):
            raise output_error(self.spec, result, "the JSON result has no `result` text")
        return GenerationResponse(
            content=answer,
            provider=self.name,
            model=_model_name(data) or self.model_for(request),
            usage=token_usage(
                data.get("usage"),
                cached_key="cache_read_input_tokens",
                outside_input=("cache_read_input_tokens", "cache_creation_input_tokens"),
            ),
            latency_s=result.duration_s,
            session_id=data.get("session_id"),
        )

    def _failure(self, data: dict[str, Any], result: ProcessResult) -> ProviderError:
        errors = data.get("errors")
        message = str(data.get("result") or "")
        if isinstance(errors, list) and errors:
            message = "; ".join(str(e) for e in errors)
        subtype = str(data.get("subtype") or "")
        if subtype.startswith("error_max_budget") or subtype == "error_max_turns":
            return error_from_message(
                self.spec,
                message or subtype,
                detail=result.stdout,
                fallback=ProviderBadRequestError,
            )
        status = data.get("api_error_status")
        return error_from_message(
            self.spec,
            message or f"the tool reported an error ({subtype or 'no details'})",
            detail=result.stdout,
            status=status if isinstance(status, int) else None,
        )


def _model_name(data: dict[str, Any]) -> str | None:
    """The tool reports models only as the keys of ``modelUsage``; the first answered."""
    usage = data.get("modelUsage")
    if isinstance(usage, dict) and usage:
        return str(next(iter(usage)))
    return None
