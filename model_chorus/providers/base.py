"""The provider interface every workflow calls, and the base of the CLI-tool providers.

A workflow only ever sees ``ModelProvider``: an object with a ``name`` and an
async ``generate``. CLI providers, middleware wrappers and test doubles all
satisfy it, which is what lets the middleware chain wrap a provider without
the workflow knowing.
"""

from __future__ import annotations

import os
import shutil
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from model_chorus.errors import (
    ProviderError,
    ProviderNotInstalledError,
    ProviderTimeoutError,
)
from model_chorus.models import GenerationRequest, GenerationResponse
from model_chorus.providers.runner import ProcessResult, run_process


@runtime_checkable
class ModelProvider(Protocol):
    """Anything that can answer a prompt. ``name`` is the registry name ("claude" ...)."""

    name: str

    async def generate(self, request: GenerationRequest) -> GenerationResponse: ...


@dataclass(frozen=True)
class ProviderSpec:
    """Static facts about one supported tool, shown by ``list-providers`` and ``doctor``."""

    name: str
    executable: str
    display_name: str
    install_command: str
    #: Shown when the user has not configured a model: what the tool picks itself.
    default_model_label: str
    #: Tokens of context when config does not say; conservative for the tool's defaults.
    context_window: int
    #: How to log in, for auth errors.
    login_hint: str
    #: Flags our command line relies on; ``doctor`` checks the tool's --help lists them.
    required_flags: tuple[str, ...] = ()


class CLIProvider(ABC):
    """One AI command-line tool. Subclasses know only the tool's own conventions.

    Process handling (spawn, stdin, timeout, process-group kill, output cap,
    decoding) lives in ``run_process``; a subclass builds the argv and
    environment, parses stdout on success and classifies failures.
    """

    spec: ProviderSpec

    def __init__(
        self,
        *,
        model: str | None = None,
        timeout: float = 300.0,
        extra_args: list[str] | None = None,
        executable: str | None = None,
        max_output_bytes: int = 16 * 1024 * 1024,
    ) -> None:
        self.default_model = model
        self.timeout = timeout
        self.extra_args = list(extra_args or [])
        self.executable = executable or self.spec.executable
        self.max_output_bytes = max_output_bytes

    @property
    def name(self) -> str:
        return self.spec.name

    # -- what a subclass provides ------------------------------------------------------

    @abstractmethod
    def build_command(self, request: GenerationRequest) -> list[str]:
        """Full argv (executable first). The prompt goes on stdin, never in argv."""

    @abstractmethod
    def parse_output(self, result: ProcessResult, request: GenerationRequest) -> GenerationResponse:
        """Turn a finished run into a response, or raise the matching ProviderError."""

    def build_env(self) -> dict[str, str]:
        """Environment for the child; subclasses add variables that keep it headless."""
        return dict(os.environ)

    def stdin_text(self, request: GenerationRequest) -> str:
        """What is written to the child's stdin."""
        return request.prompt

    # -- shared behaviour --------------------------------------------------------------

    def resolve_executable(self) -> str:
        found = shutil.which(self.executable)
        if found is None:
            raise ProviderNotInstalledError(
                f"{self.spec.display_name} (`{self.executable}`) is not installed or not on PATH.",
                provider=self.name,
                hint=(
                    f"Install it with `{self.spec.install_command}`, or pick another provider; "
                    "`model-chorus list-providers` shows what is available."
                ),
            )
        return found

    def model_for(self, request: GenerationRequest) -> str | None:
        return request.model or self.default_model

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        argv = self.build_command(request)
        argv[0] = self.resolve_executable()
        timeout = request.timeout or self.timeout
        result = await run_process(
            argv,
            stdin=self.stdin_text(request),
            env=self.build_env(),
            timeout=timeout,
            max_output_bytes=self.max_output_bytes,
        )
        if result.timed_out:
            raise ProviderTimeoutError(
                f"{self.spec.display_name} did not answer within {timeout:g} s and was stopped.",
                provider=self.name,
                hint="Raise --timeout (or the provider's `timeout` in config) for long tasks.",
                detail=result.stderr[-2000:],
            )
        return self.parse_output(result, request)


def merge_args(defaults: list[str], extra: list[str], *, protected: set[str]) -> list[str]:
    """Append the user's ``extra_args`` to our defaults without doubling a flag.

    A flag present in both keeps the user's value (dropped from ``defaults``),
    except flags in ``protected`` (the read-only guards and output format),
    which the user cannot override: such an extra flag is dropped with its value.
    Flags are recognised as ``--name value``, ``--name=value`` or ``-x value``.
    """
    extra_flags = _flag_spans(extra)
    default_flags = _flag_spans(defaults)
    overridden = set(extra_flags) - protected
    drop_from_defaults = {span for flag, span in default_flags.items() if flag in overridden}
    drop_from_extra = {span for flag, span in extra_flags.items() if flag in protected}
    kept_defaults = _without(defaults, drop_from_defaults)
    kept_extra = _without(extra, drop_from_extra)
    return kept_defaults + kept_extra


def _flag_spans(args: list[str]) -> dict[str, tuple[int, int]]:
    """Map each flag to the (start, end) index span it occupies, value included."""
    spans: dict[str, tuple[int, int]] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("-") and arg != "-" and arg != "--":
            name = arg.split("=", 1)[0]
            takes_value = "=" not in arg and i + 1 < len(args) and not args[i + 1].startswith("-")
            end = i + 2 if takes_value else i + 1
            spans[name] = (i, end)
            i = end
        else:
            i += 1
    return spans


def _without(args: list[str], spans: set[tuple[int, int]]) -> list[str]:
    drop = {i for start, end in spans for i in range(start, end)}
    return [a for i, a in enumerate(args) if i not in drop]


__all__ = [
    "CLIProvider",
    "ModelProvider",
    "ProviderError",
    "ProviderSpec",
    "merge_args",
]
