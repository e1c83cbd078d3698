"""WorkflowContext: everything a workflow command needs, built from its parsed options.

A workflow command is one call, ``run_workflow(ctx, "name")``: this module
reads the shared options from ``ctx.params`` (names fixed by cli/options.py),
works out the prompt (argument and/or piped stdin), the thread to continue,
the providers, the attached files within the token budget, runs the workflow
with progress on stderr, and hands the result to the OutputFormatter.
Options that are not shared go to the workflow as ``request.options``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from model_chorus.cli.context import AppContext, app_context
from model_chorus.cli.errors import handle_errors
from model_chorus.cli.options import SHARED_WORKFLOW_OPTIONS
from model_chorus.cli.prompt_input import read_prompt
from model_chorus.errors import InputError, TurnNotSavedError

if TYPE_CHECKING:
    from model_chorus.cli.output import OutputFormatter
    from model_chorus.workflows.base import WorkflowInfo

#: Parameter names of the shared options; the rest are workflow-specific options.
SHARED_PARAMS = frozenset(name for name, _, _ in SHARED_WORKFLOW_OPTIONS)
#: Share of the context window that attached files may take; history gets the rest.
FILES_SHARE = 0.75


def run_workflow(
    ctx: typer.Context,
    name: str,
    *,
    multi_provider: bool = False,
    role_params: tuple[str, ...] = (),
) -> None:
    """The body of every workflow command.

    ``multi_provider``: ``-p`` is repeatable and the default is the configured
    fan-out set. ``role_params``: options whose value is a provider name for a
    role (``--skeptic``); they are resolved and passed as ``env.roles``.
    """
    app = app_context(ctx)
    params = ctx.params
    fmt = app.formatter(
        json_output=params.get("json_output", False),
        verbosity=params.get("verbose", 0),
        quiet=params.get("quiet", False),
    )
    with handle_errors(fmt, workflow=name):
        WorkflowContext(
            app, fmt, name, params, multi_provider=multi_provider, role_params=role_params
        ).execute()


class WorkflowContext:
    def __init__(
        self,
        app: AppContext,
        fmt: OutputFormatter,
        workflow: str,
        params: dict[str, Any],
        *,
        multi_provider: bool = False,
        role_params: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.fmt = fmt
        self.workflow = workflow
        self.params = params
        self.multi_provider = multi_provider
        self.role_params = role_params

    @property
    def options(self) -> dict[str, Any]:
        return {k: v for k, v in self.params.items() if k not in SHARED_PARAMS}

    def explicit_providers(self) -> list[str]:
        value = self.params.get("provider")
        if value is None:
            return []
        return [value] if isinstance(value, str) else list(value)

    def execute(self) -> None:
        import asyncio

        from model_chorus.cli.logsetup import configure_logging
        from model_chorus.context.ingest import ContextIngestionService
        from model_chorus.context.tokens import count_tokens
        from model_chorus.models import new_id
        from model_chorus.providers.middleware import AttemptLog
        from model_chorus.providers.resolver import ProviderResolver
        from model_chorus.workflows.base import ANSWER_RESERVE_TOKENS, WorkflowEnv, WorkflowRequest
        from model_chorus.workflows.registry import get_workflow
        from model_chorus.workflows.runner import WorkflowRunner

        settings = self.app.settings
        # Again, now that the command's own -v/-q and the config file are known.
        quiet = self.app.quiet or self.params.get("quiet", False)
        verbosity = max(self.app.verbosity, self.params.get("verbose", 0))
        configure_logging(
            -1 if quiet else verbosity, self.app.log_format or settings.logging.format
        )
        workflow_cls = get_workflow(self.workflow)
        output_file = self.output_file()
        prompt = read_prompt(
            self.params.get("prompt"),
            required=self.prompt_required(workflow_cls.info),
            workflow=self.workflow,
            notify=self.fmt.status,
        )
        store = self.app.store
        thread_id = None
        continue_id = self.params.get("continue_")
        if continue_id is not None and not continue_id.strip():
            raise InputError(
                "--continue was given an empty thread id.",
                hint="Give a thread id, a unique prefix of it, or 'last'.",
            )
        if continue_id:
            # An id, a unique prefix, or 'last': this workflow's newest thread.
            thread_id = store.resolve_thread_id(continue_id, workflow=self.workflow)

        attempts = AttemptLog()
        started = time.monotonic()
        with self.fmt.progress(self.workflow) as events:
            resolver = ProviderResolver(
                settings,
                store=store,
                attempts=attempts,
                correlation_id=new_id(),
                workflow=self.workflow,
                events=events,
                use_breaker=not self.params.get("no_breaker", False),
                use_cache=self.params.get("cache", False),
            )
            resolved = resolver.resolve(self.explicit_providers(), multi=self.multi_provider)
            role_names = {r: self.params[r] for r in self.role_params if self.params.get(r)}
            roles = resolver.resolve_roles(role_names)
            window = min(
                [resolved.context_window, *map(resolver.context_window, role_names.values())]
            )
            prompt_tokens = count_tokens(prompt)
            if prompt_tokens + ANSWER_RESERVE_TOKENS > window:
                self.fmt.warning(
                    f"The prompt is about {prompt_tokens:,} tokens; the context window here is "
                    f"{window:,}. The model may reject it or see only part of it."
                )
            available = window - prompt_tokens - ANSWER_RESERVE_TOKENS
            ingestion = ContextIngestionService(settings.context, on_progress=self.fmt.status)
            ingested = ingestion.ingest(
                self.params.get("file") or [],
                token_budget=max(int(available * FILES_SHARE), 0),
                chunking=settings.context.chunking,
            )
            for warning in ingested.warnings:
                self.fmt.warning(warning)
            request = WorkflowRequest(
                prompt=prompt,
                thread_id=thread_id,
                attachments=ingested.attachments,
                system_prompt=self.params.get("system"),
                model=self.params.get("model"),
                timeout=self.params.get("timeout"),
                options=self.options,
            )
            env = WorkflowEnv(
                store=store,
                providers=resolved.providers,
                settings=settings,
                runner=WorkflowRunner(events),
                events=events,
                context_window=window,
                roles=roles,
            )
            not_saved: TurnNotSavedError | None = None
            try:
                # Ctrl-C cancels the workflow task; cancellation kills every child process group.
                result = asyncio.run(workflow_cls(env).run(request))
            except TurnNotSavedError as exc:
                # The answer exists and was paid for: show it, then say it was not kept.
                result, not_saved = exc.result, exc
                result.thread_stored = exc.thread_stored
        result.attempts = list(attempts.items)
        result.duration_s = time.monotonic() - started
        reported = self.fmt.result(
            result, context=ingested.to_dict(), output_file=output_file, error=not_saved
        )
        if reported is not None:
            raise typer.Exit(reported.exit_code)

    def output_file(self) -> Path | None:
        """``-o``, checked before any provider is asked: a bad path must not waste a run."""
        value = self.params.get("output")
        if value is None:
            return None
        path = Path(value)  # Click has already refused a folder (dir_okay=False)
        # Missing folders are created on write: the nearest existing one must take them.
        existing = next(p for p in (path.parent, *path.parent.parents) if p.exists())
        if not existing.is_dir() or not os.access(existing, os.W_OK):
            raise InputError(
                f"Cannot write the output file {path}: {existing} is not a writable folder.",
                hint="Choose another path for -o.",
            )
        return path

    def prompt_required(self, info: WorkflowInfo) -> bool:
        """A prompt is needed unless an option the workflow names carries the text
        (thinkdeep's manual ``--step``)."""
        return not any(self.params.get(name) for name in info.prompt_optional_with)
