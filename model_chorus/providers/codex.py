"""Codex CLI (``codex``) as a provider.

Command: ``codex exec --json --sandbox read-only --skip-git-repo-check
--disable unbounded_connection_retries [-m M] -- -``; the trailing ``-`` makes
it read the prompt (system prompt in a delimited block: no flag for one) from
stdin, and the ``--`` keeps a user's ``-i FILE`` (which takes every value that
follows it) from taking the ``-`` as an image. ``--skip-git-repo-check`` is
required outside git repositories, and without ``--disable
unbounded_connection_retries`` a dead endpoint is retried forever.

Output: JSON lines. The answer is the last ``item.completed`` item of type
``agent_message``; ``turn.completed.usage`` has the tokens; a failed turn ends
with ``turn.failed.error.message`` (exit 1). ``error`` events before a
successful turn are reconnect warnings, not failures. The model name never
appears in the output.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from model_chorus.errors import ProviderBadRequestError, ProviderError
from model_chorus.models import GenerationRequest, GenerationResponse, TokenUsage
from model_chorus.providers.base import ArgRules, CLIProvider, merge_args
from model_chorus.providers.failures import (
    error_from_message,
    failed_run,
    output_error,
    provider_error,
)
from model_chorus.providers.parsing import drop_lines, json_lines, token_usage
from model_chorus.providers.registry import SPECS
from model_chorus.providers.runner import ProcessResult
from model_chorus.providers.system_prompt import inline_system_prompt

log = logging.getLogger(__name__)

#: Stderr lines the tool prints on every run.
NOISE = ("Reading additional input from stdin", "Reading prompt from stdin")

ARG_RULES = ArgRules(
    aliases={
        "-c": "--config",
        "-m": "--model",
        "-s": "--sandbox",
        "-i": "--image",
        "-p": "--profile",
        "-C": "--cd",
        "-o": "--output-last-message",
        "--yolo": "--dangerously-bypass-approvals-and-sandbox",
        "--experimental-json": "--json",
    },
    switches=frozenset(
        {
            "--json",
            "--skip-git-repo-check",
            "--full-auto",
            "--dangerously-bypass-approvals-and-sandbox",
            "--oss",
            "--approve-for-me",
            "--dangerously-bypass-hook-trust",
            "--trust",
        }
    ),
    keyed=frozenset({"--config"}),
    repeatable=frozenset({"--enable", "--disable", "--image", "--add-dir"}),
    variadic=frozenset({"--image"}),
)

#: Output format, the sandbox and everything that would lift it. ``--full-auto`` is gone
#: from Codex CLI 0.169 (``--approve-for-me`` took its place); older versions still take it.
PROTECTED = frozenset(
    {
        "--json",
        "--sandbox",
        "--skip-git-repo-check",
        "--full-auto",
        "--approve-for-me",
        "--dangerously-bypass-approvals-and-sandbox",
        "--dangerously-bypass-hook-trust",
        "--trust",
        "--config sandbox_mode",
        "--enable unbounded_connection_retries",
    }
)


class CodexProvider(CLIProvider):
    spec = SPECS["codex"]

    def build_command(self, request: GenerationRequest) -> list[str]:
        defaults = [
            "--json",
            "--sandbox",
            "read-only",
            "--skip-git-repo-check",
            "--disable",
            "unbounded_connection_retries",
        ]
        if model := self.model_for(request):
            defaults += ["-m", model]
        args = merge_args(defaults, self.extra_args, protected=PROTECTED, rules=ARG_RULES)
        return [self.executable, "exec", *args, "--", "-"]

    def stdin_text(self, request: GenerationRequest) -> str:
        return inline_system_prompt(request.prompt, request.system_prompt)

    def parse_output(self, result: ProcessResult, request: GenerationRequest) -> GenerationResponse:
        events = _Events.read(result.stdout)
        if events.failure is not None or result.returncode != 0:
            raise self._failure(events, result)
        if events.answer is None:
            raise output_error(self.spec, result, "no agent message was found in its JSON events")
        for warning in events.warnings:
            log.debug("codex warning before a successful turn: %s", warning)
        return GenerationResponse(
            content=events.answer,
            provider=self.name,
            model=self.model_for(request),
            usage=events.usage,
            latency_s=result.duration_s,
            session_id=events.thread_id,
        )

    def _failure(self, events: _Events, result: ProcessResult) -> ProviderError:
        message = events.failure or (events.warnings[-1] if events.warnings else None)
        if message:
            return error_from_message(self.spec, message, detail=result.stdout)
        stderr = drop_lines(result.stderr, NOISE)
        if "--skip-git-repo-check" in stderr:
            return provider_error(
                ProviderBadRequestError,
                self.spec,
                stderr,
                hint="model-chorus passes --skip-git-repo-check; check `codex --version`.",
            )
        return failed_run(self.spec, result, stderr + "\n" + result.stdout)


@dataclass
class _Events:
    answer: str | None = None
    thread_id: str | None = None
    usage: TokenUsage = field(default_factory=TokenUsage)
    warnings: list[str] = field(default_factory=list)
    failure: str | None = None

    @classmethod
    def read(cls, stdout: str) -> _Events:
        found = cls()
        for event in json_lines(stdout):
            kind = event.get("type")
            if kind == "thread.started":
                found.thread_id = event.get("thread_id")
            elif kind == "item.completed":
                found._item(event.get("item"))
            elif kind == "error":
                found.warnings.append(str(event.get("message") or ""))
            elif kind == "turn.completed":
                found.usage = token_usage(event.get("usage"))
            elif kind == "turn.failed":
                error = event.get("error")
                message = error.get("message") if isinstance(error, dict) else None
                found.failure = str(message or "the turn failed")
        return found

    def _item(self, item: Any) -> None:
        if not isinstance(item, dict):
            return
        if item.get("type") == "agent_message" and isinstance(item.get("text"), str):
            self.answer = item["text"]
        elif item.get("type") == "error":
            self.warnings.append(str(item.get("message") or ""))
