"""Where model-chorus keeps its files, following each platform's conventions.

Written by hand rather than with platformdirs: three small rules cover what we
need, and start-up stays free of another import.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "model-chorus"
PROJECT_CONFIG_NAME = ".model-chorus.toml"


def _home() -> Path:
    return Path(os.environ.get("HOME") or Path.home())


def user_config_dir() -> Path:
    if override := os.environ.get("MODEL_CHORUS_CONFIG_DIR"):
        return Path(override)
    if sys.platform == "darwin":
        return _home() / "Library" / "Application Support" / APP_NAME
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA") or _home() / "AppData" / "Roaming") / APP_NAME
    return Path(os.environ.get("XDG_CONFIG_HOME") or _home() / ".config") / APP_NAME


def user_data_dir() -> Path:
    if override := os.environ.get("MODEL_CHORUS_DATA_DIR"):
        return Path(override)
    if sys.platform == "darwin":
        return _home() / "Library" / "Application Support" / APP_NAME
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or _home() / "AppData" / "Local") / APP_NAME
    return Path(os.environ.get("XDG_DATA_HOME") or _home() / ".local" / "share") / APP_NAME


def user_config_file() -> Path:
    return user_config_dir() / "config.toml"


def default_database_path() -> Path:
    return user_data_dir() / "chorus.db"


def legacy_conversations_dir() -> Path:
    """The JSON-file store of the earlier model-chorus (see ``store/legacy.py``)."""
    return _home() / ".model-chorus" / "conversations"


def find_project_config(start: Path | None = None) -> Path | None:
    """Walk up from ``start`` (the working directory) to the first project config file."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / PROJECT_CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None
