"""Where each effective setting comes from: ``config show`` and ``config path``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from model_chorus.config import ENV_PREFIX, ConfigFile, LoadedConfig, Settings

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
