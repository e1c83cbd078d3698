"""Typed settings shared by the CLI and the library.

Precedence, lowest first: built-in defaults, the user config file, the project
``.model-chorus.toml`` (nearest one walking up from the working directory), an
explicit ``--config PATH``, then ``MODEL_CHORUS_*`` environment variables
(nested keys with ``__``: ``MODEL_CHORUS_PROVIDERS__GEMINI__MODEL``). Command
line flags win over all of these but are applied by the caller per request.

Every file is validated on its own first so that an error names the file, the
key and the problem. pydantic-settings is imported here, so the CLI loads this
module lazily (it is the heaviest import of start-up).
"""

from __future__ import annotations

import json
import os
import textwrap
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from model_chorus import paths
from model_chorus.errors import ConfigError

#: The providers model-chorus ships. ``providers/registry.py`` holds one spec per name.
BUILTIN_PROVIDERS: tuple[str, ...] = ("claude", "gemini", "codex", "cursor-agent")

ENV_PREFIX = "MODEL_CHORUS_"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ProviderSettings(_Section):
    enabled: bool = True
    #: Model passed with ``--model``; None lets the tool use its own default.
    model: str | None = None
    #: Seconds for one call; None falls back to the workflow's or the global timeout.
    timeout: float | None = Field(default=None, gt=0)
    #: Extra command-line arguments appended to the tool's command (flags we also
    #: set are de-duplicated, the user's value winning, except read-only guards).
    extra_args: list[str] = Field(default_factory=list)
    #: Tokens the model accepts; history + files + prompt are budgeted to fit.
    context_window: int | None = Field(default=None, gt=0)
    #: Path or name of the executable, when it is not the tool's usual name on PATH.
    executable: str | None = None
    #: Weight of this provider's vote in consensus ``weighted`` strategy.
    weight: float = Field(default=1.0, ge=0)
    #: Requests per minute shared by the concurrent calls of one run; None = no limit.
    requests_per_minute: float | None = Field(default=None, gt=0)


class WorkflowSettings(_Section):
    provider: str | None = None
    fallback_providers: list[str] = Field(default_factory=list)
    #: Providers of multi-model workflows (consensus, ideate) when no -p is given.
    providers: list[str] = Field(default_factory=list)
    timeout: float | None = Field(default=None, gt=0)


class RetrySettings(_Section):
    max_attempts: int = Field(default=3, ge=1, le=10)
    initial_delay: float = Field(default=1.0, ge=0)
    max_delay: float = Field(default=10.0, ge=0)
    jitter: float = Field(default=0.5, ge=0)


class BreakerSettings(_Section):
    enabled: bool = True
    failure_threshold: int = Field(default=3, ge=1)
    reset_timeout: float = Field(default=60.0, gt=0)


class CacheSettings(_Section):
    enabled: bool = False
    ttl_seconds: float = Field(default=24 * 3600, gt=0)


class ContextSettings(_Section):
    max_file_bytes: int = Field(default=1_000_000, gt=0)
    max_total_bytes: int = Field(default=5_000_000, gt=0)
    history_strategy: Literal["truncate", "smart"] = "smart"
    #: What is kept of a file too large for its share of the budget.
    chunking: Literal["head", "head+tail"] = "head"


class LoggingSettings(_Section):
    format: Literal["text", "json"] = "text"


def _default_providers() -> dict[str, ProviderSettings]:
    return {name: ProviderSettings() for name in BUILTIN_PROVIDERS}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_assignment=True,
    )

    default_provider: str = "claude"
    fallback_providers: list[str] = Field(default_factory=list)
    #: Seconds for one provider call unless a provider or workflow says otherwise.
    timeout: float = Field(default=300.0, gt=0)
    #: SQLite file of the conversation store; default is in the user data directory.
    database: Path | None = None
    providers: dict[str, ProviderSettings] = Field(default_factory=_default_providers)
    workflows: dict[str, WorkflowSettings] = Field(default_factory=dict)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    breaker: BreakerSettings = Field(default_factory=BreakerSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    context: ContextSettings = Field(default_factory=ContextSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)

    @field_validator("default_provider")
    @classmethod
    def _known_default(cls, value: str) -> str:
        _check_provider_names([value])
        return value

    @field_validator("fallback_providers")
    @classmethod
    def _known_fallbacks(cls, value: list[str]) -> list[str]:
        _check_provider_names(value)
        return value

    @field_validator("providers", mode="after")
    @classmethod
    def _complete_providers(cls, value: dict[str, ProviderSettings]) -> dict[str, ProviderSettings]:
        _check_provider_names(list(value))
        return {**_default_providers(), **value}

    @field_validator("workflows", mode="after")
    @classmethod
    def _known_workflow_providers(
        cls, value: dict[str, WorkflowSettings]
    ) -> dict[str, WorkflowSettings]:
        for section in value.values():
            names = [*section.fallback_providers, *section.providers]
            _check_provider_names([section.provider, *names] if section.provider else names)
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Files arrive as init kwargs; the environment must beat them.
        return (env_settings, init_settings)

    # -- lookups used by the rest of the code ------------------------------------------

    def provider(self, name: str) -> ProviderSettings:
        return self.providers.get(name) or ProviderSettings()

    def workflow(self, name: str) -> WorkflowSettings:
        return self.workflows.get(name) or WorkflowSettings()

    @property
    def database_path(self) -> Path:
        return self.database or paths.default_database_path()

    def timeout_for(self, provider: str, workflow: str | None = None) -> float:
        """Provider setting, else workflow setting, else the global timeout."""
        if (value := self.provider(provider).timeout) is not None:
            return value
        if workflow and (value := self.workflow(workflow).timeout) is not None:
            return value
        return self.timeout


def _check_provider_names(names: list[str]) -> None:
    unknown = [n for n in names if n not in BUILTIN_PROVIDERS]
    if unknown:
        raise ValueError(
            f"unknown provider {unknown[0]!r}; known providers: {', '.join(BUILTIN_PROVIDERS)}"
        )


# --- loading ------------------------------------------------------------------------


@dataclass
class ConfigFile:
    path: Path
    origin: Literal["user", "project", "explicit"]
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class LoadedConfig:
    settings: Settings
    #: Files that were read, lowest precedence first.
    files: list[ConfigFile]


def candidate_files(explicit: Path | None = None, cwd: Path | None = None) -> list[ConfigFile]:
    """Every file that would be read, in precedence order, whether or not it exists."""
    found = [ConfigFile(paths.user_config_file(), "user")]
    if project := paths.find_project_config(cwd):
        found.append(ConfigFile(project, "project"))
    if explicit is not None:
        found.append(ConfigFile(explicit, "explicit"))
    return found


def config_locations(explicit: Path | None = None, cwd: Path | None = None) -> list[ConfigFile]:
    """Like ``candidate_files``, but always with a project entry, for showing people.

    When no project file exists up the tree, the entry is the one ``config
    init --project`` would create in ``cwd``.
    """
    found = candidate_files(explicit, cwd)
    if not any(cf.origin == "project" for cf in found):
        where = (cwd or Path.cwd()) / paths.PROJECT_CONFIG_NAME
        found.insert(1, ConfigFile(where, "project"))
    return found


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse and validate one TOML file on its own, so errors can name it."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(
            f"Config file {path} does not exist.",
            hint="Check the path; `model-chorus config path` lists where files are looked for.",
        ) from None
    except OSError as exc:
        raise ConfigError(f"Config file {path} cannot be read: {exc.strerror}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Config file {path} is not valid TOML: {exc}.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"Config file {path} is not UTF-8 text.") from None
    try:
        _FileOnlySettings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, f"Config file {path}")) from None
    return data


class _FileOnlySettings(Settings):
    """Settings validated from the given data alone, so the environment's errors are
    not blamed on a file (a BaseSettings reads the environment on every validation)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def load_config(
    explicit: Path | None = None,
    *,
    cwd: Path | None = None,
    use_files: bool = True,
) -> LoadedConfig:
    """Build the effective settings from files and environment.

    An explicit file must exist; the user and project files are optional.
    """
    files: list[ConfigFile] = []
    if use_files:
        for candidate in candidate_files(explicit, cwd):
            if candidate.origin != "explicit" and not candidate.path.is_file():
                continue
            candidate.data = read_config_file(candidate.path)
            files.append(candidate)
    merged: dict[str, Any] = {}
    for cf in files:
        merged = deep_merge(merged, cf.data)
    try:
        settings = Settings(**merged)
    except ValidationError as exc:
        # Each file validated on its own, so what fails now comes from the environment.
        raise ConfigError(
            _describe(exc, "Environment", env=True),
            hint=f"Check the {ENV_PREFIX}* variables in your environment.",
        ) from None
    return LoadedConfig(settings=settings, files=files)


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = value
    return result


def _describe(exc: ValidationError, where: str, *, env: bool = False) -> str:
    problems = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"])
        if env:
            key = ENV_PREFIX + "__".join(str(p).upper() for p in error["loc"])
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        problems.append(f"key '{key}': {message}")
    return f"{where} is invalid: " + "; ".join(problems) + "."


# --- where each effective value comes from (``config show``, ``config path``) -------

SettingOrigin = Literal["default", "user", "project", "explicit", "env"]

#: Variables read outside Settings, so ``config path`` can say what they do.
PATH_ENV_VARS: dict[str, str] = {
    "MODEL_CHORUS_CONFIG_DIR": "directory of the user config file",
    "MODEL_CHORUS_DATA_DIR": "directory of the conversation database",
}


@dataclass(frozen=True)
class SettingValue:
    """One effective setting and what set it."""

    #: Dotted key as in a config file: ``providers.gemini.model``.
    key: str
    #: JSON-compatible value (paths as strings, unset as None).
    value: Any
    origin: SettingOrigin
    #: The file path or environment variable name that set it; None for a default.
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "value": self.value, "origin": self.origin, "source": self.source}


@dataclass(frozen=True)
class EnvVariable:
    """One ``MODEL_CHORUS_*`` variable found in the environment, and what it does."""

    name: str
    value: str
    #: A settings key, a path override or a command-line option; None when nothing reads it.
    meaning: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "meaning": self.meaning}


def effective_with_sources(
    loaded: LoadedConfig, environ: Mapping[str, str] | None = None
) -> list[SettingValue]:
    """Every leaf of the effective settings with the layer that decided it.

    Precedence is re-traced rather than recorded during loading: the
    environment first (longest matching variable), then the files from the
    highest precedence down, else the built-in default.
    """
    env = _env_setting_vars(os.environ if environ is None else environ)
    result = []
    for path, value in _leaves(loaded.settings.model_dump(mode="json")):
        result.append(_origin_of(path, value, loaded.files, env))
    return result


def describe_environment(
    environ: Mapping[str, str] | None = None, *, options: Mapping[str, str] | None = None
) -> list[EnvVariable]:
    """The ``MODEL_CHORUS_*`` variables set, sorted, each with what reads it.

    ``options`` maps variables of command-line options (``MODEL_CHORUS_DEBUG``)
    to the option, which only the CLI knows. A variable nothing reads (a typo)
    has ``meaning`` None.
    """
    environ = os.environ if environ is None else environ
    options = options or {}
    found = []
    for name in sorted(environ):
        if not name.upper().startswith(ENV_PREFIX):
            continue
        meaning: str | None
        if name in options:
            meaning = f"option {options[name]}"
        elif name in PATH_ENV_VARS:
            meaning = PATH_ENV_VARS[name]
        elif (path := _env_path(name)) is not None:
            meaning = "setting " + ".".join(path)
        else:
            meaning = None
        found.append(EnvVariable(name, environ[name], meaning))
    return found


def _env_path(name: str) -> tuple[str, ...] | None:
    """The settings key a variable sets (pydantic-settings matches case-insensitively)."""
    if not name.upper().startswith(ENV_PREFIX):
        return None
    parts = tuple(name[len(ENV_PREFIX) :].lower().split("__"))
    return parts if parts[0] in Settings.model_fields and all(parts) else None


def _env_setting_vars(environ: Mapping[str, str]) -> dict[tuple[str, ...], tuple[str, str]]:
    found = {}
    for name, value in environ.items():
        if (path := _env_path(name)) is not None:
            found[path] = (name, value)
    return found


def _leaves(data: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(data, dict) and data:
        for key, value in data.items():
            yield from _leaves(value, (*prefix, str(key)))
    else:
        yield prefix, data


def _lookup(data: Any, path: tuple[str, ...]) -> bool:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True


def _origin_of(
    path: tuple[str, ...],
    value: Any,
    files: list[ConfigFile],
    env: dict[tuple[str, ...], tuple[str, str]],
) -> SettingValue:
    key = ".".join(path)
    for length in range(len(path), 0, -1):
        if (hit := env.get(path[:length])) is None:
            continue
        name, raw = hit
        if length == len(path):
            return SettingValue(key, value, "env", name)
        try:  # a JSON value for a whole table sets only the keys it holds
            if _lookup(json.loads(raw), path[length:]):
                return SettingValue(key, value, "env", name)
        except ValueError:
            pass
    for cf in reversed(files):
        if _lookup(cf.data, path):
            return SettingValue(key, value, cf.origin, str(cf.path))
    return SettingValue(key, value, "default")


# --- the commented file written by ``config init`` ------------------------------------
#
# Rendered from the Settings classes above, so a new field appears by itself;
# the notes and examples below are its words. A test checks every field has a
# note (and an example when its default is unset), and that uncommenting every
# ``# key = value`` line loads back to exactly the defaults. Example lines are
# indented (``#   key = value``) so they are never mistaken for defaults.

_NOTES: dict[str, str] = {
    "default_provider": "Provider asked when a command is given no --provider.",
    "fallback_providers": (
        'Providers tried in order when the default one fails, e.g. ["gemini", "codex"].'
    ),
    "timeout": "Seconds for one provider call, unless a provider or workflow sets its own.",
    "database": "SQLite file of the conversation store.",
    "providers": (
        "One table per provider: " + ", ".join(BUILTIN_PROVIDERS) + ". Each takes the keys "
        f"shown for {BUILTIN_PROVIDERS[0]}."
    ),
    "providers.*.enabled": "false switches the provider off without uninstalling the tool.",
    "providers.*.model": "Model passed with --model; unset lets the tool use its own default.",
    "providers.*.timeout": (
        "Seconds for one call to this provider; unset uses the workflow's or the global timeout."
    ),
    "providers.*.extra_args": (
        "Extra arguments appended to the tool's command line. A flag we also set takes your "
        "value, except the read-only guards and the output format."
    ),
    "providers.*.context_window": (
        "Tokens the model accepts; history, files and prompt are trimmed to fit. "
        "Unset uses a conservative figure for the tool's default model."
    ),
    "providers.*.executable": "Path or name of the tool; unset looks for its usual name on PATH.",
    "providers.*.weight": "Weight of this provider's vote in the weighted consensus strategy.",
    "providers.*.requests_per_minute": (
        "Requests per minute shared by the concurrent calls of one run; unset means no limit."
    ),
    "workflows": (
        "Per-workflow settings, one table per workflow (chat, consensus, argument, ideate, "
        "thinkdeep). None are set by default; for example:"
    ),
    "workflows.*.provider": "Provider for this workflow instead of default_provider.",
    "workflows.*.fallback_providers": "Fallbacks for this workflow instead of fallback_providers.",
    "workflows.*.providers": "Providers a multi-model workflow asks when no -p is given.",
    "workflows.*.timeout": "Seconds for one call in this workflow (a provider's own wins).",
    "retry": "Retries of transient failures (timeouts, rate limits, overload).",
    "retry.max_attempts": "Attempts per call, the first one included.",
    "retry.initial_delay": "Seconds before the first retry; doubles on each retry.",
    "retry.max_delay": "Longest wait between two attempts, in seconds.",
    "retry.jitter": "Random seconds added to each wait, so parallel retries spread out.",
    "breaker": "Circuit breaker: rest a tool that keeps failing instead of waiting on it.",
    "breaker.enabled": "false turns the breaker off: calls are never refused.",
    "breaker.failure_threshold": "Failed calls in a row that open the breaker.",
    "breaker.reset_timeout": "Seconds an open breaker waits before letting one test call through.",
    "cache": "Response cache: reuse the stored answer to an identical request.",
    "cache.enabled": "true caches every run; otherwise only runs with --cache use it.",
    "cache.ttl_seconds": "How long a cached answer stays usable, in seconds.",
    "context": "Files attached with --file.",
    "context.max_file_bytes": "Largest single file attached, in bytes.",
    "context.max_total_bytes": "Largest total of all attached files, in bytes.",
    "context.history_strategy": (
        "How a long conversation is fitted into the context window: truncate keeps the "
        "newest messages; smart also keeps the first question and the most important "
        "older messages."
    ),
    "context.chunking": (
        "What is kept of a file too large for the budget: head keeps its beginning; "
        "head+tail keeps its beginning and its end (logs, long reports)."
    ),
    "logging": "Log lines on stderr (-v, --debug).",
    "logging.format": "text for people, json for log collectors.",
}

_EXAMPLES: dict[str, Any] = {
    "providers.*.model": "sonnet",
    "providers.*.timeout": 600.0,
    "providers.*.context_window": 200_000,
    "providers.*.executable": "/opt/claude/bin/claude",
    "providers.*.requests_per_minute": 30.0,
    "workflows.*.provider": "gemini",
    "workflows.*.fallback_providers": ["codex"],
    "workflows.*.providers": ["claude", "gemini", "codex"],
    "workflows.*.timeout": 900.0,
}

_TEMPLATE_HEADER = f"""\
# model-chorus configuration (TOML).
#
# Every setting is shown commented out with its built-in default; uncomment a
# line to change it. Lines indented after the '#' are examples, not defaults.
# Precedence, lowest first: defaults, the user file, the project
# {paths.PROJECT_CONFIG_NAME} (nearest one walking up), --config FILE, then
# environment variables: {ENV_PREFIX}TIMEOUT=120,
# {ENV_PREFIX}PROVIDERS__GEMINI__MODEL=gemini-2.5-pro.
#
# Check a file with `model-chorus config validate`; see what is in effect,
# and where each value comes from, with `model-chorus config show`.
"""


def render_config_template() -> str:
    """The commented TOML file that ``config init`` writes; it loads as the defaults."""
    lines = [_TEMPLATE_HEADER.rstrip("\n")]
    scalars: list[str] = []
    tables: list[str] = []
    for name, info in Settings.model_fields.items():
        kind = _annotation_class(info.annotation)
        is_table = name in ("providers", "workflows") or (
            kind is not None and issubclass(kind, BaseModel)
        )
        (tables if is_table else scalars).append(name)
    lines.append("")
    for name in scalars:
        lines += _field_lines(Settings, name, name)
        lines.append("")
    for name in tables:
        lines.append(f"# --- {name} " + "-" * (72 - len(name)))
        lines += _comment(_NOTES.get(name, ""))
        if name == "providers":
            lines += _provider_tables()
        elif name == "workflows":
            lines.append("#   [workflows.consensus]")
            for field_name in WorkflowSettings.model_fields:
                key = f"workflows.*.{field_name}"
                lines += _comment(_NOTES.get(key, ""), indent=2)
                lines.append(f"#   {field_name} = {_toml(_EXAMPLES[key])}")
        else:
            section = _annotation_class(Settings.model_fields[name].annotation)
            assert section is not None and issubclass(section, BaseModel)
            lines.append(f"# [{name}]")
            for field_name in section.model_fields:
                lines += _field_lines(section, field_name, f"{name}.{field_name}")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def template_keys() -> list[str]:
    """Every key the template must describe, as in ``_NOTES`` (``providers.*.model``)."""
    keys = []
    for name, info in Settings.model_fields.items():
        keys.append(name)
        if name in ("providers", "workflows"):
            section: type[BaseModel] = ProviderSettings if name == "providers" else WorkflowSettings
            keys += [f"{name}.*.{f}" for f in section.model_fields]
        elif (kind := _annotation_class(info.annotation)) is not None and issubclass(
            kind, BaseModel
        ):
            keys += [f"{name}.{f}" for f in kind.model_fields]
    return keys


def _provider_tables() -> list[str]:
    first, *others = BUILTIN_PROVIDERS
    lines = [f"# [providers.{first}]"]
    for field_name in ProviderSettings.model_fields:
        lines += _field_lines(ProviderSettings, field_name, f"providers.*.{field_name}")
    for name in others:
        lines += ["#", f"# [providers.{name}]", "# enabled = true"]
    return lines


def _field_lines(model: type[BaseModel], name: str, key: str) -> list[str]:
    info = model.model_fields[name]
    default = info.get_default(call_default_factory=True)
    note = _NOTES.get(key, "")
    choices = get_args(info.annotation) if get_origin(info.annotation) is Literal else ()
    if choices:
        note += " One of: " + ", ".join(str(c) for c in choices) + "."
    if default is None:
        example = _EXAMPLES.get(key)
        if key == "database":
            example = str(paths.default_database_path())
            note += " Unset means the file below, in the user data directory."
        note += " For example:"
        lines = _comment(note.strip())
        if example is not None:
            lines.append(f"#   {name} = {_toml(example)}")
        return lines
    return [*_comment(note.strip()), f"# {name} = {_toml(default)}"]


def _comment(text: str, *, indent: int = 0) -> list[str]:
    if not text:
        return []
    pad = "#" + " " * (indent + 1)
    return textwrap.wrap(
        text,
        width=79,
        initial_indent=pad,
        subsequent_indent=pad,
        break_on_hyphens=False,
        break_long_words=False,
    )


def _annotation_class(annotation: Any) -> type | None:
    return annotation if isinstance(annotation, type) else None


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return json.dumps(str(value), ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict) and not value:
        return "{}"
    raise TypeError(f"no TOML rendering for {value!r}")
