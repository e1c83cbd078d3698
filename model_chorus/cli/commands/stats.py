"""``model-chorus stats``: how the providers have behaved, from the call records."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from model_chorus.cli.commands import HISTORY_PANEL
from model_chorus.cli.context import app_context
from model_chorus.cli.errors import handle_errors
from model_chorus.cli.options import JsonOpt

if TYPE_CHECKING:
    from rich.console import Console

    from model_chorus.stats import ProviderStats

ORDER = 60


def stats(
    ctx: typer.Context,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Only calls after this: a duration back from now (7d, 12h) or a date.",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Per provider: calls, failure rate by error kind, latency p50/p95, tokens."""
    from model_chorus.cli.params import parse_since
    from model_chorus.stats import compute_stats

    app = app_context(ctx)
    fmt = app.formatter(json_output=json_output)
    with handle_errors(fmt):
        start = parse_since(since) if since else None
        store = app.existing_store()  # a report must not create the database
        report = compute_stats(store.call_records(since=start) if store else [])

        def render(out: Console) -> None:
            from rich.table import Table

            if not report.providers:
                out.print("No provider calls recorded yet.")
                return
            table = Table(show_edge=False)
            table.add_column("Provider")
            table.add_column("Calls", justify="right")
            table.add_column("Failed", justify="right")
            table.add_column("Failures by kind")
            table.add_column("p50", justify="right")
            table.add_column("p95", justify="right")
            table.add_column("Tokens in / out", justify="right")
            for row in [*report.providers, report.total]:
                table.add_row(*_cells(row))
            out.print(table)

        fmt.data(
            {"since": start.isoformat() if start else None, **report.to_dict()},
            render,
        )


def _cells(row: ProviderStats) -> list[str]:
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(row.failures_by_kind.items()))

    def ms(value: float | None) -> str:
        return "—" if value is None else f"{value * 1000:,.0f} ms"

    return [
        row.provider,
        f"{row.calls:,}",
        f"{row.failure_rate:.0%}",
        kinds or "—",
        ms(row.latency_p50_s),
        ms(row.latency_p95_s),
        f"{row.input_tokens:,} / {row.output_tokens:,}",
    ]


def register(app: typer.Typer) -> None:
    app.command("stats", rich_help_panel=HISTORY_PANEL)(stats)
