"""``@workflow_command``: a workflow's CLI command from its own options alone.

Every workflow command takes the same shared options (``-p``, ``-m``, ``-c``,
``-f``, ``--system``, ``--timeout``, ``--json``, ``-o``, ``-v``, ``-q``,
``--no-breaker``, ``--cache``) and has the same body (``run_workflow``). The
decorated function declares only what is particular to the workflow — its
extra options as parameters, its help as the docstring — and never runs: the
decorator returns the real command, whose signature Typer reads, with the
shared options first.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, get_type_hints

import typer

from model_chorus.cli import options as opt
from model_chorus.cli.workflow_context import run_workflow


def workflow_command(
    name: str,
    *,
    multi_provider: bool = False,
    role_params: tuple[str, ...] = (),
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Build the command of workflow ``name`` from a function declaring its own options.

    ``multi_provider``: ``-p`` is repeatable. ``role_params``: own options whose
    value is a provider name for a role (resolved like ``-p``, see run_workflow).
    """

    def decorate(spec: Callable[..., None]) -> Callable[..., None]:
        hints = get_type_hints(spec, include_extras=True)
        own = [
            inspect.Parameter(
                p.name, inspect.Parameter.KEYWORD_ONLY, default=p.default, annotation=hints[p.name]
            )
            for p in inspect.signature(spec).parameters.values()
        ]
        shared = [
            inspect.Parameter(
                param,
                inspect.Parameter.KEYWORD_ONLY,
                default=default,
                annotation=opt.ProvidersOpt if param == "provider" and multi_provider else kind,
            )
            for param, kind, default in opt.SHARED_WORKFLOW_OPTIONS
        ]
        context = inspect.Parameter(
            "ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context
        )
        parameters = [context, *shared, *own]

        def command(ctx: typer.Context, **_: Any) -> None:
            run_workflow(ctx, name, multi_provider=multi_provider, role_params=role_params)

        command.__name__ = spec.__name__
        command.__doc__ = spec.__doc__
        command.__module__ = spec.__module__
        command.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": None}
        setattr(command, "__signature__", inspect.Signature(parameters, return_annotation=None))  # noqa: B010
        return command

    return decorate
