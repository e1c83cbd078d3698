"""``model-chorus config path|show|init|validate``: find, explain, create and check config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from model_chorus.cli.commands import SETUP_PANEL
from model_chorus.cli.context import app_context
from model_chorus.cli.errors import handle_errors
from model_chorus.cli.options import JsonOpt

if TYPE_CHECKING:
    from rich.console import Console

    from model_chorus.config import ConfigFile

config_app = typer.Typer(
    name="config",
    help="Show where settings come from, create a config file, check one.",
    no_args_is_help=True,
)

EXIT_INVALID = 2


@config_app.command("path")
def path_command(ctx: typer.Context, json_output: JsonOpt = False) -> None:
    """Every config file that would be read (lowest precedence first), the database, env vars."""
    from rich.markup import escape
    from rich.table import Table

    from model_chorus import paths
    from model_chorus.config import config_locations
    from model_chorus.config.sources import describe_environment
    from model_chorus.errors import ConfigError

    app = app_context(ctx)
    fmt = app.formatter(json_output=json_output)
    with handle_errors(fmt):
        files = [_file_entry(cf) for cf in config_locations(app.config_path)]
        config_error = None
        try:
            database = app.settings.database_path.expanduser()
        except ConfigError as exc:
            config_error = exc.message
            database = paths.default_database_path()
        env = [v.to_dict() for v in describe_environment(options=_option_env_vars(ctx))]
        document = {
            "files": files,
            "database": {"path": str(database), "exists": database.is_file()},
            "environment": env,
            "config_error": config_error,
        }

        def render(out: Console) -> None:
            table = Table(
                title="Config files, lowest precedence first", title_justify="left", box=None
            )
            for column in ("Origin", "Path", "Status"):
                table.add_column(column)
            for entry in files:
                table.add_row(entry["origin"], escape(entry["path"]), _exists(entry["exists"]))
            out.print(table)
            out.print(
                f"\n[bold]Database:[/] {escape(str(database))} ({_exists(database.is_file())})"
            )
            if config_error:
                out.print(f"[red]Config is invalid[/] ({escape(config_error)}).")
                out.print("The database path above is the default one.")
            out.print("\n[bold]Environment variables:[/]" + ("" if env else " none set"))
            for var in env:
                meaning = var["meaning"] or "[yellow]not used by model-chorus (a typo?)[/]"
                out.print(f"  {escape(var['name'])}={escape(var['value'])}  [dim]→[/] {meaning}")

        fmt.data(document, render)


@config_app.command("show")
def show_command(
    ctx: typer.Context,
    changed: Annotated[
        bool, typer.Option("--changed", help="Only values not at their built-in default.")
    ] = False,
    json_output: JsonOpt = False,
) -> None:
    """The effective settings and where each value comes from: default, a file, or env.

    Command-line flags are per command and not shown.
    """
    from rich.markup import escape
    from rich.table import Table

    from model_chorus.config.sources import effective_with_sources

    app = app_context(ctx)
    fmt = app.formatter(json_output=json_output)
    with handle_errors(fmt):
        loaded = app.loaded_config
        values = [v for v in effective_with_sources(loaded) if not changed or v.origin != "default"]
        document = {
            "settings": loaded.settings.model_dump(mode="json"),
            "values": [v.to_dict() for v in values],
            "files": [str(cf.path) for cf in loaded.files],
        }

        def render(out: Console) -> None:
            if not values:
                out.print("Every setting is at its built-in default.")
                return
            table = Table(title="Effective settings", title_justify="left", box=None)
            table.add_column("Key", no_wrap=True)
            table.add_column("Value", overflow="fold")
            table.add_column("Source", overflow="fold")
            for v in values:
                source = "default" if v.origin == "default" else f"{v.origin}: {v.source}"
                style = "dim" if v.origin == "default" else ""
                table.add_row(v.key, escape(_show_value(v.value)), escape(source), style=style)
            out.print(table)

        fmt.data(document, render)


@config_app.command("init")
def init_command(
    ctx: typer.Context,
    project: Annotated[
        bool,
        typer.Option(
            "--project", help="Write ./.model-chorus.toml here instead of the user config file."
        ),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    json_output: JsonOpt = False,
) -> None:
    """Write a commented config file listing every setting with its default."""
    from rich.markup import escape

    from model_chorus import paths
    from model_chorus.config import read_config_file
    from model_chorus.config.template import render_config_template
    from model_chorus.errors import InputError

    fmt = app_context(ctx).formatter(json_output=json_output)
    with handle_errors(fmt):
        target = Path.cwd() / paths.PROJECT_CONFIG_NAME if project else paths.user_config_file()
        existed = target.exists()
        if existed and not force:
            raise InputError(
                f"{target} already exists; not overwriting it.",
                hint="Edit it, check it with `model-chorus config validate`, "
                "or pass --force to replace it with the commented defaults.",
            )
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(render_config_template(), encoding="utf-8")
        except OSError as exc:
            raise InputError(f"Cannot write {target}: {exc.strerror or exc}.") from None
        read_config_file(target)  # what we wrote must load; a failure here is a bug
        fmt.data(
            {"path": str(target), "overwritten": existed},
            lambda out: out.print(
                f"Wrote {escape(str(target))}. Uncomment a setting to change it; "
                "check the file with `model-chorus config validate`."
            ),
        )


@config_app.command("validate")
def validate_command(
    ctx: typer.Context,
    path: Annotated[
        Path | None,
        typer.Argument(
            help="File to check. Default: every config file that would be read, and the "
            "MODEL_CHORUS_* environment variables.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Check config files: exit 0 when valid, 2 naming the file, key and problem."""
    from rich.markup import escape

    from model_chorus.config import ConfigFile, config_locations, load_config, read_config_file
    from model_chorus.errors import ConfigError

    app = app_context(ctx)
    fmt = app.formatter(json_output=json_output)
    with handle_errors(fmt):
        if path is not None:
            targets = [ConfigFile(path, "explicit")]
        else:
            targets = [
                cf
                for cf in config_locations(app.config_path)
                if cf.origin == "explicit" or cf.path.is_file()
            ]
        results: list[dict[str, Any]] = []
        errors: list[ConfigError] = []
        for cf in targets:
            try:
                read_config_file(cf.path)
            except ConfigError as exc:
                errors.append(exc)
                results.append(_result(str(cf.path), cf.origin, exc))
            else:
                results.append(_result(str(cf.path), cf.origin, None))
        if path is None and not errors:
            try:  # each file is fine alone; now the environment, and everything together
                load_config(app.config_path)
            except ConfigError as exc:
                errors.append(exc)
                results.append(_result(None, "environment", exc))
        document: dict[str, Any] = {"valid": not errors, "files": results}
        if errors:
            document["error"] = {
                "type": errors[0].kind,
                "message": " ".join(e.message for e in errors),
                "hint": errors[0].hint,
            }

        def render(out: Console) -> None:
            if not results:
                out.print("No config files found; the built-in defaults apply.")
            for r in results:
                where = (
                    f"{escape(r['path'])} ({r['origin']})"
                    if r["path"]
                    else "all of it together: the files above and the environment"
                )
                verdict = "[green]valid[/]  " if r["valid"] else "[red]invalid[/]"
                out.print(f"{verdict}  {where}")

        fmt.data(document, render)
        if errors:
            if not json_output:
                for problem in errors:
                    fmt.error(problem)
            raise typer.Exit(EXIT_INVALID)


def _result(path: str | None, origin: str, error: Exception | None) -> dict[str, Any]:
    return {
        "path": path,
        "origin": origin,
        "valid": error is None,
        "error": str(error) if error else None,
    }


def _file_entry(cf: ConfigFile) -> dict[str, Any]:
    return {"origin": cf.origin, "path": str(cf.path), "exists": cf.path.is_file()}


def _exists(exists: bool) -> str:
    return "[green]exists[/]" if exists else "[dim]not found[/]"


def _show_value(value: Any) -> str:
    if value is None:
        return "unset"
    return value if isinstance(value, str) else json.dumps(value)


def _option_env_vars(ctx: typer.Context) -> dict[str, str]:
    """Environment variables of the root options (``MODEL_CHORUS_DEBUG`` → ``--debug``)."""
    root = ctx.find_root().command
    found = {}
    for param in root.params:
        for var in [param.envvar] if isinstance(param.envvar, str) else param.envvar or []:
            found[var] = max(param.opts, key=len) if param.opts else param.name or var
    return found


ORDER = 85


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, rich_help_panel=SETUP_PANEL)
