"""Gemini CLI (``gemini``) as a provider.

Command: ``gemini --skip-trust --approval-mode default --output-format json
[-m M]``, prompt (with the system prompt in a delimited block, as the tool has
no flag for one) on stdin. ``--skip-trust`` is required in folders the user
never trusted (exit 55 otherwise).

Read-only: ``--approval-mode default`` is always passed, because the mode
otherwise comes from ``general.defaultApprovalMode`` in ``~/.gemini/settings.json``
or in the repository's own ``.gemini/settings.json`` — which ``--skip-trust``
makes the tool honour — and ``auto_edit`` there would let it edit files. In
the default mode a headless run cannot get the approval that edits and
commands need. extra_args cannot change the mode, nor pass ``--yolo`` or
policy files.

Success: pretty-printed JSON on stdout (``response``; the model whose
``roles`` include ``main`` answered). Failure: empty stdout, and at the *end*
of stderr, after stack traces, a JSON object ``{"error": {"message", "code"}}``;
the exit code is the HTTP status modulo 256 (401 -> 145, 429 -> 173 ...),
41 for missing auth, 55 for an untrusted folder, 1 for connection failures.
Stderr carries warnings even on success; they are never a failure.
"""

from __future__ import annotations

from typing import Any

from model_chorus.errors import ProviderAuthError, ProviderBadRequestError, ProviderError
from model_chorus.models import GenerationRequest, GenerationResponse, TokenUsage
from model_chorus.providers.base import ArgRules, CLIProvider, merge_args
from model_chorus.providers.failures import (
    error_from_message,
    failed_run,
    output_error,
    provider_error,
)
from model_chorus.providers.parsing import (
    as_int,
    drop_lines,
    inner_error_message,
    json_object,
    trailing_json_object,
    without_ansi,
)
from model_chorus.providers.registry import SPECS
from model_chorus.providers.runner import ProcessResult
from model_chorus.providers.system_prompt import inline_system_prompt

#: Exit codes with a fixed meaning (json output mode).
EXIT_AUTH = 41
EXIT_UNTRUSTED = 55

#: Stderr lines the tool prints on every run.
NOISE = ("Warning: ", "Ripgrep is not available")

ARG_RULES = ArgRules(
    aliases={
        "-m": "--model",
        "-o": "--output-format",
        "-p": "--prompt",
        "-i": "--prompt-interactive",
        "-y": "--yolo",
        "-s": "--sandbox",
        "-d": "--debug",
        "-e": "--extensions",
        "-r": "--resume",
        "-l": "--list-extensions",
    },
    switches=frozenset(
        {"--skip-trust", "--yolo", "--sandbox", "--debug", "--screen-reader", "--list-extensions"}
    ),
    variadic=frozenset(
        {
            "--include-directories",
            "--extensions",
            "--allowed-tools",
            "--allowed-mcp-server-names",
            "--policy",
            "--admin-policy",
        }
    ),
)

#: Output format, the prompt channel and everything that would approve edits or commands
#: (policy files can allow tools outright: they replace the deprecated --allowed-tools).
PROTECTED = frozenset(
    {
        "--output-format",
        "--skip-trust",
        "--prompt",
        "--prompt-interactive",
        "--yolo",
        "--approval-mode",
        "--allowed-tools",
        "--policy",
        "--admin-policy",
    }
)


class GeminiProvider(CLIProvider):
    spec = SPECS["gemini"]

    def build_command(self, request: GenerationRequest) -> list[str]:
        defaults = ["--skip-trust", "--approval-mode", "default", "--output-format", "json"]
        if model := self.model_for(request):
            defaults += ["-m", model]
        return [
            self.executable,
            *merge_args(defaults, self.extra_args, protected=PROTECTED, rules=ARG_RULES),
        ]

    def stdin_text(self, request: GenerationRequest) -> str:
        return inline_system_prompt(request.prompt, request.system_prompt)

    def parse_output(self, result: ProcessResult, request: GenerationRequest) -> GenerationResponse:
        if result.returncode != 0:
            raise self._failure(result)
        data = json_object(result.stdout)
        if data is None:
            raise output_error(self.spec, result, "its output is not the JSON object expected")
        answer = data.get("response")
        if not isinstance(answer, str):
            if isinstance(data.get("error"), dict):
                raise self._failure(result, data)
            raise output_error(self.spec, result, "the JSON has no `response` text")
        model, usage = _main_model(data)
        return GenerationResponse(
            content=answer,
            provider=self.name,
            model=model or self.model_for(request),
            usage=usage,
            latency_s=result.duration_s,
            session_id=data.get("session_id"),
        )

    def _failure(self, result: ProcessResult, data: dict[str, Any] | None = None) -> ProviderError:
        found = data or trailing_json_object(result.stderr) or json_object(result.stdout)
        error = found.get("error") if found else None
        stderr = without_ansi(result.stderr)
        if isinstance(error, dict):
            message = inner_error_message(str(error.get("message") or ""))
            code = error.get("code")
            if code == EXIT_AUTH:
                return provider_error(ProviderAuthError, self.spec, message, detail=stderr)
            status = code if isinstance(code, int) and 400 <= code <= 599 else None
            return error_from_message(self.spec, message, detail=stderr, status=status)
        if result.returncode == EXIT_UNTRUSTED:
            return provider_error(
                ProviderBadRequestError,
                self.spec,
                drop_lines(stderr, NOISE) or "the folder is not trusted",
                hint=(
                    "model-chorus passes --skip-trust; check that your Gemini CLI is recent "
                    "(`gemini --version`), or set GEMINI_CLI_TRUST_WORKSPACE=true."
                ),
            )
        if result.returncode == EXIT_AUTH:
            return provider_error(
                ProviderAuthError, self.spec, drop_lines(stderr, NOISE), detail=stderr
            )
        status = _status_from_exit(result.returncode)
        text = drop_lines(stderr, NOISE) + "\n" + result.stdout
        if status is not None and text.strip():
            return error_from_message(self.spec, text, detail=stderr, status=status)
        return failed_run(self.spec, result, text)


def _status_from_exit(code: int | None) -> int | None:
    """In json mode the exit code is the HTTP status modulo 256 (529 -> 17)."""
    if code is None or code <= 1 or code in (EXIT_AUTH, EXIT_UNTRUSTED):
        return None
    for status in (code + 256, code + 512):
        if 400 <= status <= 599:
            return status
    return None


def _main_model(data: dict[str, Any]) -> tuple[str | None, TokenUsage]:
    """The model whose roles include ``main`` answered; others (routers) did not."""
    stats = data.get("stats")
    models = stats.get("models") if isinstance(stats, dict) else None
    if not isinstance(models, dict) or not models:
        return None, TokenUsage()
    chosen = next(
        (
            name
            for name, entry in models.items()
            if isinstance(entry, dict) and "main" in (entry.get("roles") or {})
        ),
        next(iter(models)) if len(models) == 1 else None,
    )
    if chosen is None:
        return None, TokenUsage()
    tokens = models[chosen].get("tokens") if isinstance(models[chosen], dict) else None
    if not isinstance(tokens, dict):
        return chosen, TokenUsage()
    return chosen, TokenUsage(
        input_tokens=as_int(tokens.get("input", tokens.get("prompt"))),
        output_tokens=as_int(tokens.get("candidates")),
        cached_input_tokens=as_int(tokens.get("cached")),
    )
