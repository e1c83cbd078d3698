"""``model-chorus thinkdeep`` and ``thinkdeep-status``."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from model_chorus.cli.commands import WORKFLOWS_PANEL
from model_chorus.cli.context import app_context
from model_chorus.cli.errors import handle_errors
from model_chorus.cli.options import (
    WORKFLOW_PANEL,
    JsonOpt,
)
from model_chorus.cli.workflow_command import workflow_command

#: Mirrors workflows.investigation.CONFIDENCE_LEVELS (a test keeps them equal);
#: importing the workflow here would slow down ``--help``.
Confidence = Literal["exploring", "low", "medium", "high", "very_high", "almost_certain", "certain"]
MANUAL_PANEL = "Manual steps (for an agent driving the investigation)"


@workflow_command("thinkdeep", role_params=("expert",))
def thinkdeep(
    max_steps: Annotated[
        int,
        typer.Option(
            "--max-steps",
            min=1,
            max=20,
            help="Most investigation steps in this run (autonomous mode).",
            rich_help_panel=WORKFLOW_PANEL,
        ),
    ] = 5,
    target_confidence: Annotated[
        Confidence,
        typer.Option(
            "--target-confidence",
            help="Stop once the investigation is this confident (autonomous mode).",
            rich_help_panel=WORKFLOW_PANEL,
        ),
    ] = "high",
    expert: Annotated[
        str | None,
        typer.Option(
            "--expert",
            "-e",
            help="A second provider that reviews the conclusion after the last step.",
            rich_help_panel=WORKFLOW_PANEL,
            show_default=False,
        ),
    ] = None,
    step: Annotated[
        str | None,
        typer.Option(
            "--step",
            help="Record this step instead of letting the model choose (PROMPT optional).",
            rich_help_panel=MANUAL_PANEL,
            show_default=False,
        ),
    ] = None,
    findings: Annotated[
        str | None,
        typer.Option(
            "--findings",
            help="What the step found.",
            rich_help_panel=MANUAL_PANEL,
            show_default=False,
        ),
    ] = None,
    hypothesis: Annotated[
        str | None,
        typer.Option(
            "--hypothesis",
            help="A hypothesis the findings bear on (added, or matched to a stored one).",
            rich_help_panel=MANUAL_PANEL,
            show_default=False,
        ),
    ] = None,
    confidence: Annotated[
        Confidence | None,
        typer.Option(
            "--confidence",
            help="Your confidence after this step; wins over the model's.",
            rich_help_panel=MANUAL_PANEL,
            show_default=False,
        ),
    ] = None,
) -> None:
    """Investigate step by step with hypotheses and confidence levels.

    Autonomous: the model runs steps until the confidence reaches
    --target-confidence or --max-steps have run; each step sees the earlier
    findings, hypotheses and confidence. Manual: --step (with --findings,
    --hypothesis, --confidence) records one step and asks the model to analyse
    it. Show the stored investigation with `model-chorus thinkdeep-status ID`.

    Examples:

      model-chorus thinkdeep "Why do logins fail?" -f src/auth.py --max-steps 5

      model-chorus thinkdeep "Why is the nightly job slow?" -e gemini

      model-chorus thinkdeep -c 3f2a --step "Check NTP config" --findings "NTP off on node-3"
    """


def thinkdeep_status(
    ctx: typer.Context,
    thread_id: Annotated[str, typer.Argument(help="Thread id, a unique prefix of it, or 'last'.")],
    steps: Annotated[bool, typer.Option("--steps", help="Also list every step.")] = False,
    json_output: JsonOpt = False,
) -> None:
    """Show a stored thinkdeep investigation (no model is called)."""
    from functools import partial

    from model_chorus.cli.renderers.thinkdeep import render_status
    from model_chorus.workflows.thinkdeep import investigation_status

    app = app_context(ctx)
    fmt = app.formatter(json_output=json_output)
    with handle_errors(fmt, workflow="thinkdeep"):
        document = investigation_status(
            app.store_holding(thread_id), thread_id, include_steps=steps
        )
        fmt.data(document, partial(render_status, document))


ORDER = 45


def register(app: typer.Typer) -> None:
    app.command("thinkdeep", rich_help_panel=WORKFLOWS_PANEL)(thinkdeep)
    app.command("thinkdeep-status", rich_help_panel=WORKFLOWS_PANEL)(thinkdeep_status)
