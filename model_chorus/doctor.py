"""The checks behind ``model-chorus doctor``, as data: the CLI only renders the report.

What is checked: config files (each validated on its own, then together with
the environment), the conversation database (path, size, schema version),
the tokenizer, and for each provider whether its tool is on PATH, its
version, whether its ``--help`` still lists every flag our command line
passes (drift after a tool upgrade shows up here before a call fails), the
circuit breaker and, only when asked, one tiny real request to show that
login works. Providers are checked concurrently.

``DoctorReport.ok`` is the exit rule: the config loads, the database opens,
and the default provider is enabled, installed, still accepts our flags and
(with ping) answered. Anything about other providers, an open breaker or an
unreadable ``--version`` is a warning only.
"""

from __future__ import annotations

import asyncio
import os
import platform
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from model_chorus import __version__
from model_chorus.config import (
    ConfigFile,
    Settings,
    check_consistency,
    config_locations,
    load_config,
    read_config_file,
)
from model_chorus.errors import ConfigError, ModelChorusError, StoreError
from model_chorus.models import GenerationRequest
from model_chorus.providers.middleware.stores import BreakerStore

if TYPE_CHECKING:
    from model_chorus.store.database import ConversationDatabase

Status = Literal["ok", "warn", "fail", "skip"]

#: The ``--ping`` request: short to answer, cheap, and easy to recognise in logs.
PING_PROMPT = "Reply with the word pong and nothing else."
#: Seconds a ``<tool> --help`` may take.
HELP_TIMEOUT_S = 10.0
#: Seconds a ping may take (a tool's own retries can take minutes otherwise).
PING_TIMEOUT_S = 60.0

#: A flag as printed in a help listing: ``-p``, ``--output-format``, ``--disallowedTools``.
_FLAG = re.compile(r"(?<![\w-])(--?[A-Za-z0-9][A-Za-z0-9-]*)")


@dataclass
class ConfigFileCheck:
    path: str
    origin: str
    exists: bool
    #: None when the file does not exist (nothing to validate).
    valid: bool | None
    error: str | None = None


@dataclass
class DatabaseCheck:
    path: str
    exists: bool
    size_bytes: int | None = None
    schema_version: int | None = None
    error: str | None = None
    hint: str | None = None

    @property
    def status(self) -> Status:
        return "fail" if self.error else "ok"


@dataclass
class FlagCheck:
    """Does the installed tool still list every flag our command line passes?"""

    status: Status
    #: The help command run, e.g. ``["codex", "exec", "--help"]``.
    command: list[str]
    #: Flags we pass that the help text no longer lists.
    missing: list[str] = field(default_factory=list)
    #: Why the help text could not be read, when it could not.
    error: str | None = None


@dataclass
class PingResult:
    ok: bool
    latency_ms: float
    reply: str | None = None
    model: str | None = None
    error_kind: str | None = None
    error: str | None = None
    hint: str | None = None


@dataclass
class ProviderCheck:
    name: str
    display_name: str
    enabled: bool
    is_default: bool
    installed: bool
    path: str | None
    version: str | None
    install_command: str
    flags: FlagCheck | None = None
    breaker: dict[str, Any] | None = None
    ping: PingResult | None = None
    #: What stops this provider from working (counts for the exit code if it is the default).
    problems: list[str] = field(default_factory=list)
    #: Worth knowing, but calls may still work.
    warnings: list[str] = field(default_factory=list)

    @property
    def status(self) -> Status:
        if self.problems:
            return "fail"
        if not self.enabled:
            return "skip"
        return "warn" if self.warnings else "ok"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status}


@dataclass
class DoctorReport:
    version: str
    python: str
    python_executable: str
    platform: str
    config_files: list[ConfigFileCheck]
    #: A problem not tied to one file (the environment, or files combined).
    config_error: str | None
    database: DatabaseCheck
    tokenizer: str
    default_provider: str
    pinged: bool
    providers: list[ProviderCheck]

    @property
    def config_ok(self) -> bool:
        return self.config_error is None and all(f.valid is not False for f in self.config_files)

    @property
    def default(self) -> ProviderCheck | None:
        return next((p for p in self.providers if p.is_default), None)

    @property
    def problems(self) -> list[str]:
        """Why the default set-up does not work; empty when it does."""
        found = [f"{f.path}: {f.error}" for f in self.config_files if f.valid is False]
        if self.config_error:
            found.append(self.config_error)
        if self.database.error:
            found.append(self.database.error)
        if self.default is not None:
            found += [f"{self.default.name}: {p}" for p in self.default.problems]
        return found

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": self.problems,
            "version": self.version,
            "python": self.python,
            "python_executable": self.python_executable,
            "platform": self.platform,
            "config": {
                "ok": self.config_ok,
                "files": [asdict(f) for f in self.config_files],
                "error": self.config_error,
            },
            "database": {**asdict(self.database), "status": self.database.status},
            "tokenizer": self.tokenizer,
            "default_provider": self.default_provider,
            "pinged": self.pinged,
            "providers": [p.to_dict() for p in self.providers],
        }


async def run_doctor(
    *,
    explicit_config: Path | None = None,
    ping: bool = False,
    providers: Sequence[str] | None = None,
    help_timeout: float = HELP_TIMEOUT_S,
    ping_timeout: float = PING_TIMEOUT_S,
) -> DoctorReport:
    """Run every check and return the report; raises only for an unknown provider name.

    An invalid config does not stop the report: the remaining checks run on
    the defaults (and the environment, when that part is valid).
    """
    from model_chorus.context.tokens import tokenizer_name
    from model_chorus.providers.registry import SPECS, get_spec

    names = list(dict.fromkeys(providers)) if providers else list(SPECS)
    for name in names:
        get_spec(name)
    files = [_check_file(cf) for cf in config_locations(explicit_config)]
    settings, config_error = _load_settings(explicit_config, files)
    database, store = _check_database(settings)
    try:
        checks = await asyncio.gather(
            *(
                _check_provider(
                    name,
                    settings,
                    store,
                    ping=ping,
                    help_timeout=help_timeout,
                    ping_timeout=ping_timeout,
                )
                for name in names
            )
        )
    finally:
        if store is not None:
            store.close()
    return DoctorReport(
        version=__version__,
        python=platform.python_version(),
        python_executable=sys.executable,
        platform=sys.platform,
        config_files=files,
        config_error=config_error,
        database=database,
        tokenizer=tokenizer_name(),
        default_provider=settings.default_provider,
        pinged=ping,
        providers=list(checks),
    )


# --- config and database -------------------------------------------------------------


def _check_file(cf: ConfigFile) -> ConfigFileCheck:
    exists = cf.path.is_file()
    if not exists and cf.origin != "explicit":
        return ConfigFileCheck(str(cf.path), cf.origin, exists=False, valid=None)
    try:
        read_config_file(cf.path)
    except ConfigError as exc:
        return ConfigFileCheck(str(cf.path), cf.origin, exists, valid=False, error=exc.message)
    return ConfigFileCheck(str(cf.path), cf.origin, exists, valid=True)


def _load_settings(
    explicit: Path | None, files: list[ConfigFileCheck]
) -> tuple[Settings, str | None]:
    try:
        settings = load_config(explicit, check=False).settings
    except ConfigError as exc:
        # A bad file is already reported on its own line; only say what is new.
        error = None if any(f.valid is False for f in files) else exc.message
    else:
        try:  # the settings load; whether they make sense together is a separate finding
            check_consistency(settings)
        except ConfigError as exc:
            return settings, exc.message
        return settings, None
    try:
        return load_config(explicit, use_files=False).settings, error
    except ConfigError as exc:
        return Settings.model_construct(), error or exc.message


def _check_database(settings: Settings) -> tuple[DatabaseCheck, ConversationDatabase | None]:
    """Open the database only if it exists: doctor should not create files."""
    from model_chorus.store.database import ConversationDatabase

    path = settings.database_path.expanduser()
    check = DatabaseCheck(path=str(path), exists=path.is_file())
    if not check.exists:
        # It is created on first use: its nearest existing folder must allow that.
        existing = next(p for p in (path.parent, *path.parent.parents) if p.exists())
        if not existing.is_dir() or not os.access(existing, os.W_OK):
            check.error = f"cannot be created: {existing} is not a writable folder"
            check.hint = (
                "Set `database` in the config (or MODEL_CHORUS_DATABASE) to a writable path."
            )
        return check, None
    try:
        db = ConversationDatabase(path)
    except StoreError as exc:
        check.error, check.hint = exc.message, exc.hint
        return check, None
    try:
        stats = db.stats()
    except StoreError as exc:
        check.error, check.hint = exc.message, exc.hint
    else:
        check.size_bytes = int(stats["size_bytes"])
    check.schema_version = db.schema_version
    return check, db


# --- providers -----------------------------------------------------------------------


async def _check_provider(
    name: str,
    settings: Settings,
    store: BreakerStore | None,
    *,
    ping: bool,
    help_timeout: float,
    ping_timeout: float,
) -> ProviderCheck:
    from model_chorus.providers.middleware import BreakerState, breaker_status
    from model_chorus.providers.registry import SPECS, probe_providers

    spec = SPECS[name]
    (status,) = await probe_providers(settings, [name])
    check = ProviderCheck(
        name=name,
        display_name=spec.display_name,
        enabled=status.enabled,
        is_default=name == settings.default_provider,
        installed=status.installed,
        path=status.path,
        version=status.version,
        install_command=spec.install_command,
    )
    if not check.enabled:
        if check.is_default:
            check.problems.append(
                f"it is the default provider but disabled in config "
                f"(set `enabled = true` under [providers.{name}] or change default_provider)"
            )
        return check
    if status.path is None:
        executable = settings.provider(name).executable or spec.executable
        check.problems.append(
            f"`{executable}` is not on PATH; install it with `{spec.install_command}`"
        )
        return check
    if status.error:
        check.warnings.append(status.error)
    breaker = breaker_status(store, name, settings)
    check.breaker = breaker.to_dict()
    if breaker.state is not BreakerState.CLOSED:
        check.warnings.append(
            f"circuit breaker {breaker.state} after {breaker.failures} failed calls "
            f"(last: {breaker.last_error or 'unknown'}); calls may be refused until it resets"
        )
    check.flags = await check_flags(
        status.path, spec.help_args, spec.required_flags, timeout=help_timeout
    )
    if check.flags.missing:
        shown = " ".join([spec.executable, *spec.help_args])
        check.problems.append(
            f"`{shown}` of version {check.version or '?'} no longer lists "
            f"{', '.join(check.flags.missing)}, which model-chorus passes: calls may be "
            f"rejected. Update the tool (`{spec.install_command}`) or model-chorus."
        )
    elif check.flags.error:
        check.warnings.append(check.flags.error)
    if ping:
        check.ping = await ping_provider(name, settings, timeout=ping_timeout)
        if not check.ping.ok:
            check.problems.append(
                f"ping failed ({check.ping.error_kind}): {check.ping.error}"
                + (f" Hint: {check.ping.hint}" if check.ping.hint else "")
            )
    return check


async def check_flags(
    executable: str,
    help_args: Sequence[str],
    required: Sequence[str],
    *,
    timeout: float = HELP_TIMEOUT_S,
) -> FlagCheck:
    """Run the tool's help and look for every flag in ``required``."""
    from model_chorus.providers.runner import run_process

    argv = [executable, *help_args]
    shown = [Path(executable).name, *help_args]
    try:
        result = await run_process(argv, stdin=None, env=dict(os.environ), timeout=timeout)
    except OSError as exc:
        return FlagCheck("warn", shown, error=f"`{' '.join(shown)}` could not run: {exc}")
    text = result.stdout + "\n" + result.stderr
    if result.timed_out or not text.strip():
        why = f"did not answer within {timeout:g} s" if result.timed_out else "printed nothing"
        return FlagCheck("warn", shown, error=f"`{' '.join(shown)}` {why}; flags not checked")
    listed = listed_flags(text)
    missing = [flag for flag in required if flag not in listed]
    return FlagCheck("fail" if missing else "ok", shown, missing=missing)


#: Deepest indentation of a flag in the names column (clap indents long-only flags
#: by 6); description lines wrapped below a flag are indented further.
MAX_FLAG_INDENT = 6


def listed_flags(help_text: str) -> set[str]:
    """Flags a help listing offers: those in the names column of lines starting with ``-``.

    Descriptions are left out on purpose: "(only works with --print)" must not
    count as listing ``--print``, nor must a wrapped description line that
    happens to start with a flag (Claude Code's ``--bare`` text does).
    """
    found: set[str] = set()
    for line in help_text.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("-") and len(line) - len(stripped) <= MAX_FLAG_INDENT:
            names = re.split(r"\s{2,}", stripped, maxsplit=1)[0]
            found.update(_FLAG.findall(names))
    return found


async def ping_provider(name: str, settings: Settings, *, timeout: float) -> PingResult:
    """One tiny real request straight to the provider (no retries, no breaker)."""
    from model_chorus.providers.registry import create_provider

    limit = min(settings.timeout_for(name), timeout)
    started = time.monotonic()
    try:
        provider = create_provider(name, settings, timeout=limit)
        response = await provider.generate(GenerationRequest(prompt=PING_PROMPT, timeout=limit))
    except ModelChorusError as exc:
        return PingResult(
            ok=False,
            latency_ms=_ms_since(started),
            error_kind=exc.kind,
            error=exc.message,
            hint=exc.hint,
        )
    return PingResult(
        ok=True,
        latency_ms=_ms_since(started),
        reply=response.content.strip()[:80],
        model=response.model,
    )


def _ms_since(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)
