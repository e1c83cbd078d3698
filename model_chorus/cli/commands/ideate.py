"""``model-chorus ideate``."""

from __future__ import annotations

from typing import Annotated

import typer

from model_chorus.cli.commands import WORKFLOWS_PANEL
from model_chorus.cli.options import WORKFLOW_PANEL
from model_chorus.cli.workflow_command import workflow_command


@workflow_command("ideate", multi_provider=True)
def ideate(
    num_ideas: Annotated[
        int,
        typer.Option(
            "--num-ideas",
            "-n",
            min=1,
            max=20,
            help="Ideas to ask of each brainstorm call (each provider, each perspective).",
            rich_help_panel=WORKFLOW_PANEL,
        ),
    ] = 5,
    perspectives: Annotated[
        str | None,
        typer.Option(
            "--perspectives",
            help='Comma-separated angles, e.g. "cost,security,ux": one brainstorm prompt '
            "each, dealt round-robin over the providers.",
            rich_help_panel=WORKFLOW_PANEL,
            show_default=False,
        ),
    ] = None,
    no_model_clustering: Annotated[
        bool,
        typer.Option(
            "--no-model-clustering",
            help="Cluster ideas by shared keywords instead of asking a model.",
            rich_help_panel=WORKFLOW_PANEL,
        ),
    ] = False,
) -> None:
    """Brainstorm with several models, then cluster, score and recommend.

    Every provider brainstorms in parallel; the ideas are pooled, repeats
    removed, clustered by theme and each theme scored on feasibility, impact
    and novelty (1-5) by the first provider, which also recommends one.
    --continue runs another round of new ideas and converges again.

    Examples:

      model-chorus ideate "Ways to cut CI time" -p claude -p gemini -n 6

      model-chorus ideate "Onboarding improvements" --perspectives "cost,ux,security"

      model-chorus ideate -c 3f2a "More ideas, focused on flaky tests"
    """


ORDER = 40


def register(app: typer.Typer) -> None:
    app.command("ideate", rich_help_panel=WORKFLOWS_PANEL)(ideate)
