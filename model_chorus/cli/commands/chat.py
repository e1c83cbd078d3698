"""``model-chorus chat``."""

from __future__ import annotations

import typer

from model_chorus.cli.commands import WORKFLOWS_PANEL
from model_chorus.cli.options import (
    CacheOpt,
    ContinueOpt,
    FilesOpt,
    JsonOpt,
    ModelOpt,
    NoBreakerOpt,
    OutputOpt,
    PromptArg,
    ProviderOpt,
    QuietOpt,
    SystemOpt,
    TimeoutOpt,
    VerboseOpt,
)
from model_chorus.cli.workflow_context import run_workflow


def chat(
    ctx: typer.Context,
    prompt: PromptArg = None,
    provider: ProviderOpt = None,
    model: ModelOpt = None,
    continue_: ContinueOpt = None,
    file: FilesOpt = None,
    system: SystemOpt = None,
    timeout: TimeoutOpt = None,
    json_output: JsonOpt = False,
    output: OutputOpt = None,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
    no_breaker: NoBreakerOpt = False,
    cache: CacheOpt = False,
) -> None:
    """Talk to one model; continue the conversation later with --continue.

    Examples:

      model-chorus chat "Explain WAL mode in SQLite"

      git diff | model-chorus chat "Review this change" -p gemini

      model-chorus chat -c 3f2a "And what about checkpoints?"
    """
    run_workflow(ctx, "chat")


ORDER = 10


def register(app: typer.Typer) -> None:
    app.command("chat", rich_help_panel=WORKFLOWS_PANEL)(chat)
