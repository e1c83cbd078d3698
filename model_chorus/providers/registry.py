"""The providers model-chorus ships: their static facts, construction and probing.

``SPECS`` is cheap to import; a provider's module is imported only when that
provider is created, so ``list-providers`` and start-up stay light.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import re
import shutil
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from model_chorus.errors import UnknownProviderError
from model_chorus.providers.base import CLIProvider, ProviderSpec

if TYPE_CHECKING:
    from model_chorus.config import Settings

#: Seconds a ``<tool> --version`` may take before the tool is reported as not answering.
PROBE_TIMEOUT_S = 5.0

SPECS: dict[str, ProviderSpec] = {
    "claude": ProviderSpec(
        name="claude",
        executable="claude",
        display_name="Claude Code",
        install_command="npm install -g @anthropic-ai/claude-code",
        default_model_label="Claude Code's default",
        context_window=200_000,
        login_hint=(
            "Run `claude` once in a terminal and log in with /login, or set ANTHROPIC_API_KEY."
        ),
        required_flags=(
            "--print",
            "--output-format",
            "--tools",
            "--disallowed-tools",
            "--strict-mcp-config",
            "--model",
            "--append-system-prompt",
        ),
    ),
    "gemini": ProviderSpec(
        name="gemini",
        executable="gemini",
        display_name="Gemini CLI",
        install_command="npm install -g @google/gemini-cli",
        default_model_label="Gemini CLI's default (auto)",
        context_window=1_000_000,
        login_hint="Run `gemini` once in a terminal to sign in, or set GEMINI_API_KEY.",
        required_flags=("--output-format", "--skip-trust", "--approval-mode", "--model"),
    ),
    "codex": ProviderSpec(
        name="codex",
        executable="codex",
        display_name="Codex CLI",
        install_command="npm install -g @openai/codex",
        default_model_label="Codex CLI's default",
        context_window=200_000,
        login_hint="Run `codex login`, or set OPENAI_API_KEY.",
        required_flags=("--json", "--sandbox", "--skip-git-repo-check", "--disable", "--model"),
        help_args=("exec", "--help"),
    ),
    "cursor-agent": ProviderSpec(
        name="cursor-agent",
        executable="cursor-agent",
        display_name="Cursor Agent",
        install_command="curl https://cursor.com/install -fsS | bash",
        default_model_label="Cursor Agent's default",
        context_window=200_000,
        login_hint="Run `cursor-agent login`, or set CURSOR_API_KEY.",
        required_flags=("--print", "--output-format", "--model"),
    ),
}

#: name -> (module, class); imported on first use only.
_CLASSES: dict[str, tuple[str, str]] = {
    "claude": ("model_chorus.providers.claude", "ClaudeProvider"),
    "gemini": ("model_chorus.providers.gemini", "GeminiProvider"),
    "codex": ("model_chorus.providers.codex", "CodexProvider"),
    "cursor-agent": ("model_chorus.providers.cursor_agent", "CursorAgentProvider"),
}

_VERSION = re.compile(r"\d+(?:\.\d+)+(?:[-+][0-9A-Za-z.-]+)?")


def known_providers() -> tuple[str, ...]:
    return tuple(SPECS)


def check_known(name: str) -> None:
    """Raise the one "unknown provider" error every command reports (exit 2)."""
    if name not in SPECS:
        raise UnknownProviderError(
            f"Unknown provider {name!r}; known providers: {', '.join(SPECS)}.",
            hint="`model-chorus list-providers` shows each provider and whether it is installed.",
        )


def get_spec(name: str) -> ProviderSpec:
    check_known(name)
    return SPECS[name]


def provider_class(name: str) -> type[CLIProvider]:
    """The provider's class, importing its module now (and only now)."""
    get_spec(name)
    module_name, class_name = _CLASSES[name]
    cls: type[CLIProvider] = getattr(importlib.import_module(module_name), class_name)
    return cls


def create_provider(name: str, settings: Settings, *, timeout: float | None = None) -> CLIProvider:
    """A ready provider configured from ``settings`` (model, timeout, extra args, executable).

    Whether the provider is enabled is the caller's decision (the resolver
    reports disabled providers with their own message).
    """
    cls = provider_class(name)
    configured = settings.provider(name)
    return cls(
        model=configured.model,
        timeout=timeout if timeout is not None else settings.timeout_for(name),
        extra_args=configured.extra_args,
        executable=configured.executable,
    )


@dataclass(frozen=True)
class ProviderStatus:
    """What ``list-providers`` shows for one provider."""

    name: str
    display_name: str
    enabled: bool
    installed: bool
    path: str | None
    version: str | None
    default_model: str
    install_command: str
    #: Why the tool is unusable although found (no answer to --version ...), else None.
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


async def probe_providers(
    settings: Settings, names: list[str] | None = None
) -> list[ProviderStatus]:
    """Status of each provider (all by default), probing installed tools concurrently.

    Never raises for a tool's behaviour; an unknown name is an input error.
    """
    chosen = list(names) if names is not None else list(SPECS)
    for name in chosen:
        get_spec(name)
    return list(await asyncio.gather(*(_probe(name, settings) for name in chosen)))


async def _probe(name: str, settings: Settings) -> ProviderStatus:
    from model_chorus.providers.runner import run_process

    spec = SPECS[name]
    configured = settings.provider(name)
    executable = configured.executable or spec.executable
    path = shutil.which(executable)
    version: str | None = None
    error: str | None = None
    if path is not None:
        try:
            result = await run_process(
                [path, "--version"], stdin=None, env=dict(os.environ), timeout=PROBE_TIMEOUT_S
            )
        except OSError as exc:
            error = f"`{executable}` could not be started: {exc.strerror or exc}"
        else:
            if result.timed_out:
                error = f"`{executable} --version` did not answer within {PROBE_TIMEOUT_S:g} s"
            elif result.returncode != 0:
                said = (result.stderr.strip() or result.stdout.strip()).splitlines()
                error = f"`{executable} --version` exited with code {result.returncode}" + (
                    f": {said[0]}" if said else ""
                )
            else:
                version = parse_version(result.stdout or result.stderr)
    return ProviderStatus(
        name=name,
        display_name=spec.display_name,
        enabled=configured.enabled,
        installed=path is not None,
        path=path,
        version=version,
        default_model=configured.model or spec.default_model_label,
        install_command=spec.install_command,
        error=error,
    )


def parse_version(text: str) -> str | None:
    """``2.1.197`` from ``2.1.197 (Claude Code)`` or ``codex-cli 0.169.0``; else the first line."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if not line:
        return None
    match = _VERSION.search(line)
    return match.group(0) if match else line
