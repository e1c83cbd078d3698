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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from model_chorus.errors import (
    ProviderError,
    ProviderNotInstalledError,
    ProviderOutputError,
    ProviderTimeoutError,
)
from model_chorus.models import GenerationRequest, GenerationResponse
from model_chorus.providers.runner import ProcessResult, run_process


@runtime_checkable
class ModelProvider(Protocol):
    """Anything that can answer a prompt. ``name`` is the registry name ("claude" ...)."""

    @property
    def name(self) -> str: ...

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
    #: Arguments that print the help listing ``required_flags`` (codex: ``exec --help``).
    help_args: tuple[str, ...] = ("--help",)


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

    def stdin_text(self, request: GenerationRequest) -> str | None:
        """What is written to the child's stdin; None gives it /dev/null."""
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
        try:
            result = await run_process(
                argv,
                stdin=self.stdin_text(request),
                env=self.build_env(),
                timeout=timeout,
                max_output_bytes=self.max_output_bytes,
            )
        except OSError as exc:  # found on PATH but not runnable (permissions, bad interpreter)
            raise ProviderNotInstalledError(
                f"{self.spec.display_name} (`{argv[0]}`) could not be started: "
                f"{exc.strerror or exc}.",
                provider=self.name,
                hint=f"Reinstall it with `{self.spec.install_command}`.",
            ) from exc
        if result.timed_out:
            raise ProviderTimeoutError(
                f"{self.spec.display_name} did not answer within {timeout:g} s and was stopped.",
                provider=self.name,
                hint="Raise --timeout (or the provider's `timeout` in config) for long tasks.",
                detail=result.stderr[-2000:],
            )
        response = self.parse_output(result, request)
        if not response.content.strip():
            # One rule for every workflow: a blank answer is a failed call, so the
            # fallbacks are tried (chat) and nobody votes on nothing (consensus).
            raise ProviderOutputError(
                f"{self.spec.display_name} answered with an empty reply.",
                provider=self.name,
                hint="Try again, or another provider with -p.",
                detail=result.stdout[-2000:],
            )
        return response


@dataclass(frozen=True)
class ArgRules:
    """How one tool's flags behave, so ``merge_args`` can tell a duplicate from a new value.

    Flag names are given in their canonical spelling (usually the long form);
    ``aliases`` maps other spellings (``-m``, ``--allowedTools``) onto it.
    """

    #: Other spelling -> canonical name.
    aliases: Mapping[str, str] = field(default_factory=dict)
    #: Flags that never take a value (``--json``, ``--verbose``).
    switches: frozenset[str] = frozenset()
    #: ``-c key=value`` style: the same flag with another key is a different setting.
    keyed: frozenset[str] = frozenset()
    #: Flags that may repeat with different values, each one adding (``--disable X``).
    repeatable: frozenset[str] = frozenset()
    #: Flags whose value runs until the next flag (``--disallowed-tools A B C``).
    variadic: frozenset[str] = frozenset()

    def canonical(self, flag: str) -> str:
        return self.aliases.get(flag, flag)


@dataclass(frozen=True)
class _FlagUse:
    name: str  # canonical flag name
    identity: str  # what makes two uses "the same setting"
    start: int
    end: int  # exclusive; the span covers the flag and its value(s)


def merge_args(
    defaults: list[str],
    extra: list[str],
    *,
    protected: Iterable[str] = (),
    rules: ArgRules | None = None,
) -> list[str]:
    """Append the user's ``extra_args`` to our defaults without doubling a flag.

    A setting present in both keeps the user's value (dropped from ``defaults``),
    except the ``protected`` ones (read-only guards, output format), which the
    user cannot set at all: such an extra flag is dropped with its value.
    Within ``extra`` a repeated single-value flag keeps its last use.

    Flags are recognised as ``--name value``, ``--name=value`` or ``-x value``.
    A flag not known to ``rules`` takes the next argument as its value unless
    that argument starts with ``-``. ``protected`` holds canonical names, or
    ``"name key"`` / ``"name value"`` for one setting of a keyed or repeatable
    flag (``"--config sandbox_mode"``, ``"--enable unbounded_connection_retries"``).
    """
    rules = rules or ArgRules()
    guard = {_canonical_identity(p, rules) for p in protected}
    extra_uses = _flag_uses(extra, rules)
    user_set = {u.identity for u in extra_uses if not _is_protected(u, guard)}
    drop_defaults = [u for u in _flag_uses(defaults, rules) if u.identity in user_set]
    last_use = {u.identity: u for u in extra_uses}
    drop_extra = [u for u in extra_uses if _is_protected(u, guard) or last_use[u.identity] is not u]
    return _without(defaults, drop_defaults) + _without(extra, drop_extra)


def _canonical_identity(entry: str, rules: ArgRules) -> str:
    name, _, rest = entry.partition(" ")
    name = rules.canonical(name)
    return f"{name} {rest}" if rest else name


def _is_protected(use: _FlagUse, guard: set[str]) -> bool:
    return use.name in guard or use.identity in guard


def _flag_uses(args: list[str], rules: ArgRules) -> list[_FlagUse]:
    """Each flag use in ``args`` with the span it occupies, value(s) included."""
    uses: list[_FlagUse] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            break  # everything after is positional
        if not arg.startswith("-") or arg == "-":
            i += 1
            continue
        spelled, has_inline, inline = arg.partition("=")
        name = rules.canonical(spelled)
        end = i + 1
        values: list[str] = [inline] if has_inline else []
        if not has_inline and name not in rules.switches:
            while end < len(args) and not args[end].startswith("-"):
                values.append(args[end])
                end += 1
                if name not in rules.variadic:
                    break
        if name in rules.keyed and values:
            identity = f"{name} {values[0].split('=', 1)[0].strip()}"
        elif name in rules.repeatable:
            identity = f"{name} {' '.join(values)}".rstrip()
        else:
            identity = name
        uses.append(_FlagUse(name, identity, i, end))
        i = end
    return uses


def _without(args: list[str], uses: list[_FlagUse]) -> list[str]:
    drop = {i for use in uses for i in range(use.start, use.end)}
    return [a for i, a in enumerate(args) if i not in drop]


__all__ = [
    "ArgRules",
    "CLIProvider",
    "ModelProvider",
    "ProviderError",
    "ProviderSpec",
    "merge_args",
]
