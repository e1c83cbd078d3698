"""``model-chorus doctor``: renders the report of ``model_chorus.doctor``; exit 1 when not ready."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from model_chorus.cli.commands import SETUP_PANEL
from model_chorus.cli.context import app_context
from model_chorus.cli.errors import handle_errors
from model_chorus.cli.options import JsonOpt

if TYPE_CHECKING:
    from rich.console import Console

    from model_chorus.doctor import DoctorReport, ProviderCheck

EXIT_NOT_READY = 1

_MARK = {"ok": "[green]✓[/]", "warn": "[yellow]![/]", "fail": "[red]✗[/]", "skip": "[dim]-[/]"}


def doctor(
    ctx: typer.Context,
    ping: Annotated[
        bool,
        typer.Option(
            "--ping",
            help="Also send each provider one tiny real request, to check that login works "
            "(uses a few tokens).",
        ),
    ] = False,
    provider: Annotated[
        list[str] | None,
        typer.Option(
            "--provider",
            "-p",
            help="Check only this provider; repeat for several. Default: all of them.",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Check the set-up: tools on PATH, versions, flag drift, breakers, database, config.

    Exit 0 when the default provider is ready to use, 1 when it is not.

    Examples:

      model-chorus doctor

      model-chorus doctor --ping -p gemini
    """
    import asyncio

    from model_chorus.doctor import run_doctor

    app = app_context(ctx)
    fmt = app.formatter(json_output=json_output)
    with handle_errors(fmt):
        fmt.status("Checking providers" + (" and pinging them…" if ping else "…"))
        report = asyncio.run(
            run_doctor(explicit_config=app.config_path, ping=ping, providers=provider or None)
        )
        fmt.data(report.to_dict(), lambda out: _render(out, report))
    if not report.ok:
        raise typer.Exit(EXIT_NOT_READY)


def _render(out: Console, report: DoctorReport) -> None:
    from rich.markup import escape
    from rich.table import Table

    out.print(
        f"model-chorus {report.version} · Python {report.python} ({report.platform}) · "
        f"tokenizer {escape(report.tokenizer)}"
    )
    existing = [f for f in report.config_files if f.exists or f.valid is not None]
    if not existing:
        out.print(f"{_MARK['ok']} Config: no config files, built-in defaults")
    for f in existing:
        mark = _MARK["ok"] if f.valid else _MARK["fail"]
        state = "valid" if f.valid else "invalid"
        out.print(f"{mark} Config ({f.origin}): {escape(f.path)} {state}")
    if report.config_error:
        out.print(f"{_MARK['fail']} Config: {escape(report.config_error)}")
    db = report.database
    if db.error:
        out.print(f"{_MARK['fail']} Database: {escape(db.path)}: {escape(db.error)}")
    elif not db.exists:
        out.print(f"{_MARK['ok']} Database: {escape(db.path)} (created on first use)")
    else:
        size = f"{(db.size_bytes or 0) / 1024:.1f} KiB"
        out.print(
            f"{_MARK['ok']} Database: {escape(db.path)} ({size}, schema v{db.schema_version})"
        )

    table = Table(title="Providers", title_justify="left", box=None)
    for column in ("", "Provider", "Version"):
        table.add_column(column, no_wrap=True)
    for column in ("Command line", "Breaker", "Ping"):
        table.add_column(column, overflow="fold")
    for p in report.providers:
        name = p.name + (" [bold](default)[/]" if p.is_default else "")
        if not p.enabled:
            name += " [dim](disabled)[/]"
        table.add_row(
            _MARK[p.status],
            name,
            escape(p.version or ("—" if p.installed else "not installed")),
            _flags_cell(p),
            p.breaker["state"] if p.breaker else "—",
            _ping_cell(p),
        )
    out.print()
    out.print(table)

    notes = [(_MARK["fail"], p.name, m) for p in report.providers for m in p.problems]
    notes += [(_MARK["warn"], p.name, m) for p in report.providers for m in p.warnings]
    if notes:
        out.print()
    for mark, name, message in notes:
        out.print(f"{mark} {name}: {escape(message)}")

    out.print()
    if report.ok:
        out.print(f"[green]Ready:[/] the default provider {report.default_provider} can be used.")
    else:
        out.print(
            f"[red]Not ready:[/] {len(report.problems)} problem(s) above with the config, "
            f"the database or the default provider {report.default_provider}."
        )
        if not report.pinged:
            out.print(
                "[dim]`model-chorus doctor --ping` also checks that each tool is logged in.[/]"
            )


def _flags_cell(p: ProviderCheck) -> str:
    if p.flags is None:
        return "—"
    if p.flags.missing:
        return "[red]drift:[/] " + ", ".join(p.flags.missing) + " missing"
    return "accepted" if p.flags.status == "ok" else "[yellow]unchecked[/]"


def _ping_cell(p: ProviderCheck) -> str:
    if p.ping is None:
        return "—"
    if p.ping.ok:
        return f"[green]ok[/] {p.ping.latency_ms / 1000:.1f}s"
    return f"[red]{p.ping.error_kind}[/]"


ORDER = 90


def register(app: typer.Typer) -> None:
    app.command("doctor", rich_help_panel=SETUP_PANEL)(doctor)
