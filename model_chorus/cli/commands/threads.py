"""``model-chorus threads ...`` and ``migrate-json``: the conversation store for people.

Thread ids may be given by a unique prefix, like git commits.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from model_chorus.cli.commands import HISTORY_PANEL
from model_chorus.cli.context import app_context
from model_chorus.cli.errors import handle_errors
from model_chorus.cli.options import JsonOpt, OutputOpt
from model_chorus.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console

    from model_chorus.models import Thread
    from model_chorus.store.legacy import ImportReport

ORDER = 50

threads_app = typer.Typer(
    help="List, search, show, export and delete stored conversations.",
    no_args_is_help=True,
)

IdArg = Annotated[
    str, typer.Argument(help="Thread id, a unique prefix of it, or 'last' for the newest.")
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
WorkflowFilter = Annotated[
    str | None,
    typer.Option("--workflow", "-w", help="Only threads of this workflow.", show_default=False),
]
LimitOpt = Annotated[
    int, typer.Option("--limit", "-n", min=1, max=100_000, help="How many to show.")
]


@threads_app.command("list")
def list_threads(
    ctx: typer.Context,
    workflow: WorkflowFilter = None,
    limit: LimitOpt = 20,
    json_output: JsonOpt = False,
) -> None:
    """Recent threads, newest first."""
    app = app_context(ctx)
    fmt = app.formatter(json_output=json_output)
    with handle_errors(fmt):
        store = app.existing_store()  # listing must not create the database
        threads = store.list_threads(workflow=workflow, limit=limit) if store else []
        fmt.data(
            {"threads": [t.to_dict(with_messages=False) for t in threads]},
            lambda out: _threads_table(out, threads),
        )


@threads_app.command("show")
def show(ctx: typer.Context, thread_id: IdArg, json_output: JsonOpt = False) -> None:
    """One thread with all its messages and workflow state."""
    from rich.markdown import Markdown
    from rich.markup import escape
    from rich.panel import Panel

    app = app_context(ctx)
    fmt = app.formatter(json_output=json_output)
    with handle_errors(fmt):
        store = app.store_holding(thread_id)
        thread = store.get_thread(thread_id)
        state = store.get_all_state(thread.id)

        def render(out: Console) -> None:
            if not out.is_terminal:
                # Piped: the export's Markdown, so line breaks and '#' lines survive.
                fmt.text(store.export_thread(thread.id, "md"))
                return
            # Titles, names and snippets are user or model text: never Rich markup.
            out.print(f"[bold]{escape(thread.title) or '(untitled)'}[/]")
            out.print(
                f"[dim]{thread.id} · {thread.workflow} · {thread.status} · "
                f"created {thread.created_at:%Y-%m-%d %H:%M} · "
                f"updated {thread.updated_at:%Y-%m-%d %H:%M}[/]"
            )
            if thread.parent_id:
                out.print(f"[dim]parent: {thread.parent_id}[/]")
            for m in thread.messages:
                who = str(m.role) + (f" · {m.provider}" if m.provider else "")
                who += f" · {m.model}" if m.model else ""
                files = f"\n[dim]files: {escape(', '.join(m.files))}[/]" if m.files else ""
                out.print(Panel(Markdown(m.content), title=escape(who), title_align="left"))
                if files:
                    out.print(files)
            if state:
                out.print(f"[dim]workflow state: {', '.join(state)}[/]")

        fmt.data({"thread": {**thread.to_dict(), "state": state}}, render)


@threads_app.command("search")
def search(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="Words to look for in messages.")],
    workflow: WorkflowFilter = None,
    limit: LimitOpt = 20,
    json_output: JsonOpt = False,
) -> None:
    """Full-text search over every stored message."""
    from rich.table import Table
    from rich.text import Text

    app = app_context(ctx)
    fmt = app.formatter(json_output=json_output)
    with handle_errors(fmt):
        store = app.existing_store()
        hits = store.search(text, limit=limit, workflow=workflow) if store else []

        def render(out: Console) -> None:
            if not hits:
                out.print(f"No messages match {text!r}.", markup=False)
                return
            table = Table(show_edge=False)
            for column in ("Thread", "Workflow", "Role", "Match"):
                table.add_column(column)
            for hit in hits:
                # Text cells: stored text is never markup nor :emoji: codes.
                table.add_row(hit.thread_id[:8], Text(hit.workflow), hit.role, Text(hit.snippet))
            out.print(table)

        fmt.data({"query": text, "hits": [h.to_dict() for h in hits]}, render)


@threads_app.command("export")
def export(
    ctx: typer.Context,
    thread_id: IdArg,
    format: Annotated[
        Literal["md", "json"], typer.Option("--format", help="Markdown or JSON.")
    ] = "md",
    output: OutputOpt = None,
) -> None:
    """Write a thread as Markdown or JSON (stdout, or -o FILE)."""
    from model_chorus.cli.output import write_output_file

    app = app_context(ctx)
    fmt = app.formatter()
    with handle_errors(fmt):
        store = app.store_holding(thread_id)
        text = store.export_thread(store.resolve_thread_id(thread_id), format)
        if output is None:
            fmt.text(text)
        else:
            write_output_file(output, text)
            fmt.status(f"Exported to {output}")


@threads_app.command("delete")
def delete(ctx: typer.Context, thread_id: IdArg, yes: YesOpt = False) -> None:
    """Delete one thread, its messages and its workflow state."""
    app = app_context(ctx)
    fmt = app.formatter()
    with handle_errors(fmt):
        store = app.store_holding(thread_id)
        thread = store.get_thread(thread_id, with_messages=False)
        _confirm(
            yes, f"Delete thread {thread.id} ({thread.title!r}, {thread.message_count} messages)?"
        )
        store.delete_thread(thread.id)
        fmt.status(f"Deleted thread {thread.id}.")


@threads_app.command("prune")
def prune(
    ctx: typer.Context,
    older_than: Annotated[
        str, typer.Option("--older-than", help="Age of the last activity, e.g. 30d, 12h, 2w.")
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would go.")] = False,
    yes: YesOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Delete threads with no activity for a while. Nothing is ever deleted otherwise."""
    from model_chorus.cli.params import parse_duration

    app = app_context(ctx)
    fmt = app.formatter(json_output=json_output)
    with handle_errors(fmt):
        age = parse_duration(older_than, option="--older-than")
        store = app.existing_store()
        candidates = store.prune(age, dry_run=True) if store else []
        if store is not None and not dry_run and candidates:
            _confirm(yes, f"Delete {len(candidates)} thread(s) idle for more than {older_than}?")
            candidates = store.prune(age)
        verb = "Would delete" if dry_run else "Deleted"
        fmt.data(
            {"dry_run": dry_run, "older_than": older_than, "threads": candidates},
            lambda out: out.print(f"{verb} {len(candidates)} thread(s)."),
        )


@threads_app.command("stats")
def stats(ctx: typer.Context, json_output: JsonOpt = False) -> None:
    """How much is stored, and where."""
    from rich.table import Table

    app = app_context(ctx)
    fmt = app.formatter(json_output=json_output)
    with handle_errors(fmt):
        store = app.existing_store()
        data = store.stats() if store else _empty_stats(str(app.settings.database_path))

        def render(out: Console) -> None:
            table = Table(show_header=False, show_edge=False)
            table.add_row("Database", data["path"])
            table.add_row("Size", f"{data['size_bytes'] / 1024:,.0f} KiB")
            table.add_row("Schema version", str(data["schema_version"]))
            table.add_row("Threads", f"{data['threads']:,}")
            table.add_row("Messages", f"{data['messages']:,}")
            table.add_row("Provider calls", f"{data['call_records']:,}")
            for name, count in data["by_workflow"].items():
                table.add_row(f"  {name}", f"{count:,} threads")
            table.add_row("Full-text search", "FTS5" if data["fts"] else "LIKE fallback")
            out.print(table)

        fmt.data({"stats": data}, render)


def migrate_json(
    ctx: typer.Context,
    directory: Annotated[
        Path | None,
        typer.Argument(
            help="Folder of the old JSON files. Default: ~/.model-chorus/conversations.",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would be imported; write nothing.")
    ] = False,
    json_output: JsonOpt = False,
) -> None:
    """Import conversations from the earlier JSON-file store. Safe to run twice."""
    from rich.markup import escape

    from model_chorus import paths
    from model_chorus.store.legacy import import_legacy

    app = app_context(ctx)
    fmt = app.formatter(json_output=json_output)
    with handle_errors(fmt):
        source = directory or paths.legacy_conversations_dir()
        if dry_run and not app.settings.database_path.exists():
            report = _dry_run_without_database(source)
        else:
            report = import_legacy(app.store, source, dry_run=dry_run)

        def render(out: Console) -> None:
            verb = "Would import" if dry_run else "Imported"
            out.print(
                f"Found {report.found} thread file(s) in {escape(str(source))}: {verb.lower()} "
                f"{len(report.imported)}, skipped {len(report.skipped)} already present, "
                f"{len(report.failed)} failed."
            )
            for failure in report.failed:
                out.print(f"[red]failed[/] {escape(failure.path.name)}: {escape(failure.reason)}")
            for note in report.notes:
                out.print(f"[yellow]note[/] {escape(note)}")

        fmt.data({"migration": report.to_dict()}, render)
        if report.failed:
            raise typer.Exit(1)


def _dry_run_without_database(source: Path) -> ImportReport:
    """A dry run must not create the database: compare against an empty scratch one."""
    import tempfile

    from model_chorus.store.database import ConversationDatabase
    from model_chorus.store.legacy import import_legacy

    with tempfile.TemporaryDirectory() as tmp, ConversationDatabase(Path(tmp) / "dry.db") as db:
        return import_legacy(db, source, dry_run=True)


def _threads_table(out: Console, threads: list[Thread]) -> None:
    from rich.table import Table
    from rich.text import Text

    if not threads:
        out.print('No threads yet. Start one with: model-chorus chat "..."')
        return
    table = Table(show_edge=False)
    for column in ("Id", "Workflow", "Updated", "Msgs", "Title"):
        table.add_column(column, no_wrap=column != "Title")
    for t in threads:
        updated = f"{t.updated_at:%Y-%m-%d %H:%M}"
        table.add_row(t.id[:8], Text(t.workflow), updated, str(t.message_count), Text(t.title))
    out.print(table)


def _confirm(yes: bool, question: str) -> None:
    if yes:
        return
    if sys.stdin is None or not sys.stdin.isatty():
        raise InputError(f"{question} Refusing without confirmation.", hint="Add --yes to confirm.")
    if not typer.confirm(question, default=False, err=True):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(threads_app, name="threads", rich_help_panel=HISTORY_PANEL)
    app.command("migrate-json", rich_help_panel=HISTORY_PANEL)(migrate_json)


def _empty_stats(path: str) -> dict[str, Any]:
    """What ``threads stats`` reports before the database exists (it is not created)."""
    return {
        "path": path,
        "schema_version": None,
        "threads": 0,
        "messages": 0,
        "by_workflow": {},
        "call_records": 0,
        "oldest_thread": None,
        "newest_activity": None,
        "size_bytes": 0,
        "fts": None,
    }
