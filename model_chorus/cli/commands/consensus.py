"""``model-chorus consensus``."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from model_chorus.cli.commands import WORKFLOWS_PANEL
from model_chorus.cli.options import WORKFLOW_PANEL
from model_chorus.cli.workflow_command import workflow_command

#: Mirrors workflows.consensus.STRATEGIES (a test keeps them equal); importing the
#: workflow here would slow down ``--help``.
Strategy = Literal["all_responses", "first_valid", "majority", "weighted", "synthesize"]


@workflow_command("consensus", multi_provider=True, role_params=("synthesizer",))
def consensus(
    strategy: Annotated[
        Strategy | None,
        typer.Option(
            "--strategy",
            "-s",
            help="How to combine the answers. Default: all_responses (a continued "
            "thread keeps its last strategy).",
            rich_help_panel=WORKFLOW_PANEL,
            show_default=False,
        ),
    ] = None,
    synthesizer: Annotated[
        str | None,
        typer.Option(
            "--synthesizer",
            help="Provider that writes the synthesis (synthesize). Default: the first -p.",
            rich_help_panel=WORKFLOW_PANEL,
            show_default=False,
        ),
    ] = None,
    min_responses: Annotated[
        int,
        typer.Option(
            "--min-responses",
            min=1,
            help="Fail unless at least this many providers answer.",
            rich_help_panel=WORKFLOW_PANEL,
        ),
    ] = 1,
) -> None:
    """Ask several models at once and combine their answers.

    Strategies: all_responses (every answer, labelled), first_valid, majority and
    weighted (the models vote on the anonymised answers; ties are reported),
    synthesize (one model writes a single answer naming agreement and differences).

    Examples:

      model-chorus consensus "Is SQLite WAL safe on NFS?" -p claude -p gemini -p codex

      model-chorus consensus "Pick a queue for this design" -f design.md -s majority

      model-chorus consensus "Review this diff" -s synthesize --synthesizer claude
    """


ORDER = 20


def register(app: typer.Typer) -> None:
    app.command("consensus", rich_help_panel=WORKFLOWS_PANEL)(consensus)
