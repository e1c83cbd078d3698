"""``model-chorus chat``."""

from __future__ import annotations

import typer

from model_chorus.cli.commands import WORKFLOWS_PANEL
from model_chorus.cli.workflow_command import workflow_command

ORDER = 10


@workflow_command("chat")
def chat() -> None:
    """Talk to one model; continue the conversation later with --continue.

    Examples:

      model-chorus chat "Explain WAL mode in SQLite"

      git diff | model-chorus chat "Review this change" -p gemini

      model-chorus chat -c 3f2a "And what about checkpoints?"
    """


def register(app: typer.Typer) -> None:
    app.command("chat", rich_help_panel=WORKFLOWS_PANEL)(chat)
