"""The Typer application: global options once, then one module per command group.

Only typer and the option declarations are imported at start-up; each command
imports what it needs when it runs, so ``model-chorus --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from model_chorus import __version__
from model_chorus.cli.commands import register_all
from model_chorus.cli.context import AppContext

app = typer.Typer(
    name="model-chorus",
    help="Ask several AI command-line tools for help and combine their answers.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"model-chorus {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            envvar="MODEL_CHORUS_CONFIG",
            help="Read this config file on top of the user and project files.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    verbose: Annotated[
        int,
        typer.Option("--verbose", "-v", count=True, help="More detail on stderr (repeatable)."),
    ] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or status.")] = False,
    no_color: Annotated[
        bool, typer.Option("--no-color", envvar="NO_COLOR", help="Plain output, no colours.")
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", envvar="MODEL_CHORUS_DEBUG", help="Show tracebacks and tool output."
        ),
    ] = False,
    log_format: Annotated[
        Literal["text", "json"] | None,
        typer.Option(
            "--log-format",
            envvar="MODEL_CHORUS_LOG_FORMAT",
            help="Format of log lines on stderr.",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool | None,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = None,
) -> None:
    """Ask several AI command-line tools for help and combine their answers."""
    from model_chorus.cli.logsetup import configure_logging

    configure_logging(-1 if quiet else verbose, log_format or "text")
    ctx.obj = AppContext(
        config_path=config,
        verbosity=verbose,
        quiet=quiet,
        no_color=no_color,
        debug=debug,
        log_format=log_format,
    )
    ctx.call_on_close(ctx.obj.close)


register_all(app)


def main() -> None:
    # A fixed name, so `python -m model_chorus --show-completion` completes `model-chorus`.
    app(prog_name="model-chorus")
