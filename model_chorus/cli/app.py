"""The Typer application: global options once, then one module per command group.

Only typer and the option declarations are imported at start-up; each command
imports what it needs when it runs, so ``model-chorus --help`` stays fast.
"""

from __future__ import annotations

import sys
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
        # NO_COLOR itself is read by the OutputFormatter: any non-empty value counts,
        # which a boolean option's env parsing would reject ("NO_COLOR=please").
        bool,
        typer.Option("--no-color", help="Plain output, no colours (also: NO_COLOR set)."),
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
    """Console entry point: the app, with usage errors honouring ``--json``."""
    # typer 0.26-0.28 vendor click; their UsageError is Click's.
    from typer._click.exceptions import ClickException

    from model_chorus.cli.errors import terminate_like_interrupt

    terminate_like_interrupt()
    try:
        # A fixed name, so `python -m model_chorus --show-completion` completes `model-chorus`.
        code = app(prog_name="model-chorus", standalone_mode=False)
    except ClickException as exc:
        if "--json" in sys.argv[1:]:
            _json_usage_error(exc.format_message())
        else:
            from typer import rich_utils

            rich_utils.rich_format_error(exc)  # Click's usual box, with the usage line
        code = exc.exit_code
    except typer.Abort:
        code = 1
    sys.exit(code if isinstance(code, int) else 0)


def _json_usage_error(message: str) -> None:
    """A usage error as the one JSON document scripts expect on stdout."""
    from model_chorus.cli.output import OutputFormatter
    from model_chorus.errors import UsageError

    hint = "Run the command with --help to see its options."
    OutputFormatter(json_output=True).error(UsageError(message, hint=hint))
