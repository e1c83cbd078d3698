"""``model-chorus argument``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from model_chorus.cli.commands import WORKFLOWS_PANEL
from model_chorus.cli.options import WORKFLOW_PANEL
from model_chorus.cli.workflow_command import workflow_command

#: Mirrors workflows.argument.MAX_ROUNDS (importing the workflow would slow down --help).
MAX_ROUNDS = 5


def _role(name: str, what: str) -> Any:
    return typer.Option(
        f"--{name}",
        help=f"Provider for the {name} ({what}). Default: -p / the configured provider.",
        rich_help_panel=WORKFLOW_PANEL,
        show_default=False,
    )


@workflow_command("argument", role_params=("creator", "skeptic", "moderator"))
def argument(
    creator: Annotated[str | None, _role("creator", "argues for")] = None,
    skeptic: Annotated[str | None, _role("skeptic", "argues against")] = None,
    moderator: Annotated[str | None, _role("moderator", "weighs both sides")] = None,
    rounds: Annotated[
        int,
        typer.Option(
            "--rounds",
            "-r",
            min=1,
            max=MAX_ROUNDS,
            help="Creator/skeptic exchanges before the moderator sums up.",
            rich_help_panel=WORKFLOW_PANEL,
        ),
    ] = 1,
) -> None:
    """Debate a question: creator (for), skeptic (against), moderator (synthesis).

    Each role sees what the earlier ones said; the result lists each role's
    text, the key points of each side, and the moderator's synthesis.

    Examples:

      model-chorus argument "We should rewrite the billing service in Rust"

      model-chorus argument "Adopt GraphQL?" --skeptic gemini --moderator codex -r 2

      model-chorus argument -c 3f2a "What if we only rewrite the PDF renderer?"
    """


ORDER = 30


def register(app: typer.Typer) -> None:
    app.command("argument", rich_help_panel=WORKFLOWS_PANEL)(argument)
