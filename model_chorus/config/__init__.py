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

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from model_chorus import paths
from model_chorus.errors import ConfigError

#: The providers model-chorus ships. ``providers/registry.py`` holds one spec per name.
BUILTIN_PROVIDERS: tuple[str, ...] = ("claude", "gemini", "codex", "cursor-agent")

ENV_PREFIX = "MODEL_CHORUS_"
FIX_HINT = (
    "Fix that key (`model-chorus config validate` re-checks the file); "
    "`model-chorus config init` writes a commented template of every setting."
)


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

    @field_validator("database", mode="before")
    @classmethod
    def _empty_database_is_unset(cls, value: object) -> object:
        # MODEL_CHORUS_DATABASE= (set but empty) must not mean "the current folder".
        return None if isinstance(value, str) and not value.strip() else value

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
        raise ConfigError(
            f"Config file {path} cannot be read: {exc.strerror}.",
            hint="Check its permissions, or point --config at another file.",
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Config file {path} is not valid TOML: {exc}.", hint=FIX_HINT) from None
    except UnicodeDecodeError:
        raise ConfigError(f"Config file {path} is not UTF-8 text.", hint=FIX_HINT) from None
    try:
        _FileOnlySettings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, f"Config file {path}"), hint=FIX_HINT) from None
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
    check: bool = True,
) -> LoadedConfig:
    """Build the effective settings from files and environment.

    An explicit file must exist; the user and project files are optional.
    ``check`` also refuses settings that cannot work together (a disabled default
    provider); ``doctor`` turns it off to report that as one finding among others.
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
    except SettingsError as exc:
        # A list or table variable that is not JSON (MODEL_CHORUS_FALLBACK_PROVIDERS=gemini).
        raise ConfigError(
            f"Environment is invalid: {exc}.",
            hint=f"List and table values are JSON: {ENV_PREFIX}FALLBACK_PROVIDERS='[\"gemini\"]', "
            f"{ENV_PREFIX}PROVIDERS__CLAUDE__EXTRA_ARGS='[\"--foo\"]'.",
        ) from None
    if check:
        check_consistency(settings)
    return LoadedConfig(settings=settings, files=files)


def check_consistency(settings: Settings) -> None:
    """A disabled provider named as a default would make every command fail later.

    Checked on the merged settings only: one file may disable a provider that
    another file no longer uses as the default.
    """
    defaults: dict[str, str | None] = {"default_provider": settings.default_provider}
    defaults |= {
        f"workflows.{name}.provider": wf.provider for name, wf in settings.workflows.items()
    }
    for key, name in defaults.items():
        if name and not settings.provider(name).enabled:
            raise ConfigError(
                f"Settings are inconsistent: {key} is {name!r}, but providers.{name}.enabled "
                "is false.",
                hint=f"Set {key} to an enabled provider, or enable {name}.",
            )


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
