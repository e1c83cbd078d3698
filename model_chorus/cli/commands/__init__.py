"""One module per command or command group; each has ``ORDER`` and ``register(app)``.

Modules are found by listing this package, so adding a command is one new
file here. ``ORDER`` fixes where its commands appear in ``--help``. Command
modules import only typer and cli/options at top level (start-up cost).
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

#: Help panels, so ``--help`` groups commands by what people come for.
WORKFLOWS_PANEL = "Workflows"
HISTORY_PANEL = "Conversations and records"
SETUP_PANEL = "Discovery and set-up"


def register_all(app: typer.Typer) -> None:
    modules = [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in pkgutil.iter_modules(__path__)
    ]
    for module in sorted(modules, key=lambda m: (getattr(m, "ORDER", 100), m.__name__)):
        module.register(app)
