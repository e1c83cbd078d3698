"""Discovery commands: ``list-workflows``, ``list-providers``, ``version``."""

from __future__ import annotations

import platform
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from model_chorus import __version__
from model_chorus.cli.commands import SETUP_PANEL
from model_chorus.cli.context import app_context
from model_chorus.cli.errors import handle_errors
from model_chorus.cli.options import JsonOpt

if TYPE_CHECKING:
    from rich.console import Console


def list_workflows(ctx: typer.Context, json_output: JsonOpt = False) -> None:
    """List the workflows and what each one does."""
    from rich.table import Table

    from model_chorus.workflows.registry import all_workflows

    fmt = app_context(ctx).formatter(json_output=json_output)
    with handle_errors(fmt):
        infos = all_workflows()

        def render(out: Console) -> None:
            table = Table(title="Workflows", title_justify="left", show_lines=True)
            table.add_column("Workflow", style="bold")
            table.add_column("What it does")
            table.add_column("Providers")
            for wf in infos:
                table.add_row(
                    wf.name,
                    f"{wf.summary}\n[dim]{wf.example}[/]",
                    "several" if wf.multi_provider else "one (+ fallbacks)",
                )
            out.print(table)

        fmt.data({"workflows": [wf.to_dict() for wf in infos]}, render)


def list_providers(
    ctx: typer.Context,
    reset_breaker: Annotated[
        str | None,
        typer.Option(
            "--reset-breaker",
            metavar="PROVIDER",
            help="Close this provider's circuit breaker and forget its failures.",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """List the providers: installed or not, version, default model, breaker state."""
    import asyncio

    from rich.markup import escape
    from rich.table import Table

    from model_chorus.errors import StoreError
    from model_chorus.providers.middleware import breaker_status
    from model_chorus.providers.middleware import reset_breaker as reset
    from model_chorus.providers.registry import check_known, probe_providers

    app = app_context(ctx)
    fmt = app.formatter(json_output=json_output)
    with handle_errors(fmt):
        settings = app.settings
        if reset_breaker is not None:
            check_known(reset_breaker)
            if (store := app.existing_store()) is not None:
                before = reset(store, reset_breaker, settings)
                fmt.status(f"Breaker of {reset_breaker} closed (it was {before.state}).")
        statuses = asyncio.run(probe_providers(settings))
        try:
            store = app.existing_store()
        except StoreError as exc:  # the list is still worth showing without breaker states
            fmt.warning(f"Breaker states unknown: {exc.message}")
            store, unknown = None, True
        else:
            unknown = False
        rows = []
        for status in statuses:
            breaker = breaker_status(store, status.name, settings).to_dict()
            if unknown:
                breaker["state"] = "unknown"
            rows.append({**status.to_dict(), "breaker": breaker})

        def render(out: Console) -> None:
            table = Table(title="Providers", title_justify="left")
            for column in ("Provider", "Installed", "Version", "Default model", "Breaker"):
                table.add_column(column)
            for row in rows:
                installed = "[green]yes[/]" if row["installed"] else "[red]no[/]"
                if not row["enabled"]:
                    installed += " [dim](disabled)[/]"
                table.add_row(
                    row["name"],
                    installed,
                    escape(row["version"] or "—"),
                    escape(row["default_model"]),
                    row["breaker"]["state"],
                )
            out.print(table)
            for row in rows:
                if not row["installed"]:
                    out.print(f"[dim]Install {row['name']}:[/] {escape(row['install_command'])}")

        fmt.data(
            {"default_provider": settings.default_provider, "providers": rows},
            render,
        )


def version(ctx: typer.Context, json_output: JsonOpt = False) -> None:
    """Show the version of model-chorus and of Python."""
    fmt = app_context(ctx).formatter(json_output=json_output)
    python = platform.python_version()
    fmt.data(
        {"version": __version__, "python": python, "platform": sys.platform},
        lambda out: out.print(f"model-chorus {__version__} (Python {python}, {sys.platform})"),
    )


ORDER = 80


def register(app: typer.Typer) -> None:
    app.command("list-workflows", rich_help_panel=SETUP_PANEL)(list_workflows)
    app.command("list-providers", rich_help_panel=SETUP_PANEL)(list_providers)
    app.command("version", rich_help_panel=SETUP_PANEL)(version)
