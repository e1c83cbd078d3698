"""Options shared by many commands, declared once.

Each is an ``Annotated`` type; a command lists the ones it takes and the
shared primitives read their values from ``ctx.params`` by these names, so a
command body stays a single call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

WORKFLOW_PANEL = "Workflow options"
OUTPUT_PANEL = "Output"

PromptArg = Annotated[
    str | None,
    typer.Argument(
        help="What to ask. Read from stdin when piped; both are joined when both are given.",
        show_default=False,
    ),
]
ProviderOpt = Annotated[
    str | None,
    typer.Option(
        "--provider",
        "-p",
        help="Provider to ask (claude, gemini, codex, cursor-agent). Default: from config.",
        show_default=False,
    ),
]
ProvidersOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--provider",
        "-p",
        help="Provider to ask; repeat for several. Default: from config.",
        show_default=False,
    ),
]
ModelOpt = Annotated[
    str | None,
    typer.Option("--model", "-m", help="Model for the (primary) provider.", show_default=False),
]
ContinueOpt = Annotated[
    str | None,
    typer.Option(
        "--continue",
        "-c",
        help="Continue this thread: its id, a unique prefix of it, or 'last'.",
        show_default=False,
    ),
]
FilesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--file",
        "-f",
        help="File, directory or glob to attach; repeatable.",
        show_default=False,
    ),
]
SystemOpt = Annotated[
    str | None,
    typer.Option("--system", help="Extra system instructions for the model.", show_default=False),
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        help="Seconds for each provider call, retries included. Default: from config.",
        min=0.1,
        show_default=False,
    ),
]
JsonOpt = Annotated[
    bool,
    typer.Option(
        "--json", help="Print exactly one JSON document on stdout.", rich_help_panel=OUTPUT_PANEL
    ),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Also write the result to this file (JSON with --json, else Markdown).",
        dir_okay=False,
        rich_help_panel=OUTPUT_PANEL,
        show_default=False,
    ),
]
VerboseOpt = Annotated[
    int,
    typer.Option(
        "--verbose",
        "-v",
        count=True,
        help="More detail on stderr (repeat for debug logs).",
        rich_help_panel=OUTPUT_PANEL,
    ),
]
QuietOpt = Annotated[
    bool,
    typer.Option(
        "--quiet", "-q", help="No progress or status on stderr.", rich_help_panel=OUTPUT_PANEL
    ),
]
NoBreakerOpt = Annotated[
    bool,
    typer.Option(
        "--no-breaker",
        help="Call providers even if their circuit breaker is open (a success closes it).",
        rich_help_panel=WORKFLOW_PANEL,
    ),
]
CacheOpt = Annotated[
    bool,
    typer.Option(
        "--cache",
        help="Reuse a stored answer to the identical request (see \\[cache] in config).",
        rich_help_panel=WORKFLOW_PANEL,
    ),
]


#: The options every workflow command takes, in --help order: (parameter name,
#: annotation, default). ``@workflow_command`` adds them to each workflow's command
#: (``provider`` becomes ProvidersOpt for multi-provider ones); WorkflowContext
#: reads them from ``ctx.params`` by these names.
SHARED_WORKFLOW_OPTIONS: tuple[tuple[str, Any, Any], ...] = (
    ("prompt", PromptArg, None),
    ("provider", ProviderOpt, None),
    ("model", ModelOpt, None),
    ("continue_", ContinueOpt, None),
    ("file", FilesOpt, None),
    ("system", SystemOpt, None),
    ("timeout", TimeoutOpt, None),
    ("json_output", JsonOpt, False),
    ("output", OutputOpt, None),
    ("verbose", VerboseOpt, 0),
    ("quiet", QuietOpt, False),
    ("no_breaker", NoBreakerOpt, False),
    ("cache", CacheOpt, False),
)
