"""The application context built once by the root callback and shared by commands.

Settings and the database are loaded on first use, not in the callback:
``list-workflows`` and ``--help`` never pay for pydantic-settings or SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import typer

if TYPE_CHECKING:
    from model_chorus.cli.output import OutputFormatter
    from model_chorus.config import LoadedConfig, Settings
    from model_chorus.store.database import ConversationDatabase


@dataclass
class AppContext:
    config_path: Path | None = None
    verbosity: int = 0
    quiet: bool = False
    no_color: bool = False
    debug: bool = False
    log_format: Literal["text", "json"] | None = None
    _loaded: LoadedConfig | None = field(default=None, repr=False)
    _store: ConversationDatabase | None = field(default=None, repr=False)

    @property
    def loaded_config(self) -> LoadedConfig:
        if self._loaded is None:
            from model_chorus.config import load_config

            self._loaded = load_config(self.config_path)
        return self._loaded

    @property
    def settings(self) -> Settings:
        return self.loaded_config.settings

    @property
    def store(self) -> ConversationDatabase:
        if self._store is None:
            from model_chorus.store.database import ConversationDatabase

            self._store = ConversationDatabase(self.settings.database_path)
        return self._store

    def existing_store(self) -> ConversationDatabase | None:
        """The database if it already exists: read-only views must not create it."""
        if self._store is None and not self.settings.database_path.exists():
            return None
        return self.store

    def store_holding(self, thread_id: str) -> ConversationDatabase:
        """The database, for a command that looks up ``thread_id``; with no database
        yet there is no such thread, and none is created just to say so."""
        store = self.existing_store()
        if store is None:
            from model_chorus.errors import ThreadNotFoundError

            raise ThreadNotFoundError(
                f"No thread with id {thread_id!r}: nothing is stored yet.",
                hint='Start a conversation with: model-chorus chat "..."',
            )
        return store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def formatter(
        self, *, json_output: bool = False, verbosity: int = 0, quiet: bool = False
    ) -> OutputFormatter:
        from model_chorus.cli.output import OutputFormatter

        return OutputFormatter(
            json_output=json_output,
            verbosity=max(self.verbosity, verbosity),
            quiet=self.quiet or quiet,
            no_color=self.no_color,
            debug=self.debug,
        )


def app_context(ctx: typer.Context) -> AppContext:
    """The AppContext of this invocation (a default one when a command runs standalone)."""
    root = ctx.find_root()
    if not isinstance(root.obj, AppContext):
        root.obj = AppContext()
        root.call_on_close(root.obj.close)
    return root.obj
