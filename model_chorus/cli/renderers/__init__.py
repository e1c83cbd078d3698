"""Console rendering of workflow results, one small module per workflow.

A workflow without its own renderer gets ``render_default``: the answer, then
a footer on stderr naming provider, model, tokens, time and the thread id.
Modules in this package register with ``@renderer("name")`` and are found on
first use, like workflows in the workflow registry.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.markdown import Markdown
from rich.panel import Panel

from model_chorus.wording import plural

if TYPE_CHECKING:
    from model_chorus.cli.output import OutputFormatter
    from model_chorus.models import WorkflowResult

Renderer = Callable[["WorkflowResult", "OutputFormatter"], None]
_RENDERERS: dict[str, Renderer] = {}
_discovered = False


def renderer(workflow: str) -> Callable[[Renderer], Renderer]:
    def decorate(fn: Renderer) -> Renderer:
        _RENDERERS[workflow] = fn
        return fn

    return decorate


def render_result(result: WorkflowResult, fmt: OutputFormatter) -> None:
    global _discovered
    if not _discovered:
        for module in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{module.name}")
        _discovered = True
    _RENDERERS.get(result.workflow, render_default)(result, fmt)


def render_answer(fmt: OutputFormatter, text: str, *, title: str | None = None) -> None:
    """Markdown in a panel on a terminal; the raw text when stdout is piped or redirected."""
    if fmt.out.is_terminal:
        fmt.out.print(Panel(Markdown(text), title=title, title_align="left", border_style="blue"))
    else:
        fmt.text(text)


def render_footer(result: WorkflowResult, fmt: OutputFormatter, who: str | None = None) -> None:
    """Warnings, who answered, at what cost, and how to continue — on stderr, out of pipes' way.

    ``who`` describes a multi-provider result ("majority · answered: claude, gemini");
    without it the one provider that answered is named.
    """
    for warning in result.warnings:
        fmt.warning(warning)
    for failure in result.failures:
        fmt.warning(f"{failure.provider} did not answer ({failure.kind}): {failure.message}")
    parts = []
    if who is not None:
        parts.append(who)
    elif (primary := result.primary) is not None:
        parts.append(primary.provider + (f" · {primary.model}" if primary.model else ""))
        if primary.attempts > 1:
            parts.append(f"{primary.attempts} attempts")
    usage = result.usage
    if usage.total_tokens:
        parts.append(f"{usage.input_tokens:,} in / {usage.output_tokens:,} out tokens")
    if who is not None:
        parts.append(plural(len(result.responses), "call"))
    parts.append(f"{result.duration_s:.1f}s")
    fmt.status(" · ".join(parts))
    if result.thread_stored:
        fmt.status(
            f"Thread {result.thread_id} — continue with: "
            f'model-chorus {result.workflow} --continue {result.thread_id[:8]} "..."'
        )


def render_default(result: WorkflowResult, fmt: OutputFormatter) -> None:
    render_answer(fmt, result.content)
    render_footer(result, fmt)
