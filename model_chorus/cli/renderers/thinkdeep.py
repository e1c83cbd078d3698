"""Console rendering of ``thinkdeep`` results and of ``thinkdeep-status``.

On a terminal: confidence, a hypotheses table, this run's steps as panels and
the expert's verdict. Piped: the investigation report as Markdown (the
result's content).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from model_chorus.cli.renderers import render_footer, renderer

if TYPE_CHECKING:
    from rich.console import Console

    from model_chorus.cli.output import OutputFormatter
    from model_chorus.models import WorkflowResult

_STATUS_STYLE = {"validated": "green", "disproven": "red", "active": "yellow"}


@renderer("thinkdeep")
def render_thinkdeep(result: WorkflowResult, fmt: OutputFormatter) -> None:
    data = result.data
    run = data.get("run", {})
    if fmt.out.is_terminal:
        out = fmt.out
        _header(out, data)
        _hypotheses(out, data.get("hypotheses", []))
        for step in data.get("steps", []):
            if step["step_number"] in run.get("steps", []):
                _step_panel(out, step)
        _expert(out, data.get("expert_validation"))
    else:
        fmt.text(result.content)
    providers = ", ".join(dict.fromkeys(r.provider for r in result.responses))
    stopped = {
        "target_reached": f"target {run.get('target_confidence')} reached",
        "max_steps": f"stopped after --max-steps {run.get('max_steps')}",
        "manual": "manual step",
    }.get(run.get("stopped", ""), "")
    steps = run.get("steps", [])
    who = (
        f"steps {steps[0]}–{steps[-1]}" if len(steps) > 1 else f"step {steps[0] if steps else '?'}"
    )
    render_footer(result, fmt, f"{who} · {stopped} · {providers}")


def render_status(document: dict[str, Any], out: Console) -> None:
    """``thinkdeep-status``: the stored investigation, without calling a model."""
    if document.get("title") != document.get("question"):
        out.print(Text(document.get("title") or "(untitled)", style="bold"))
    out.print(
        Text(
            f"{document['thread_id']} · {document['status']} · {document['step_count']} steps · "
            f"updated {document['updated_at'][:16].replace('T', ' ')}",
            style="dim",
        )
    )
    _header(out, document)
    _hypotheses(out, document.get("hypotheses", []))
    if "steps" in document:
        table = Table(title="Steps", title_justify="left", show_lines=True)
        for column in ("#", "Step", "Findings", "Confidence", "By"):
            table.add_column(column)
        for step in document["steps"]:
            table.add_row(
                str(step["step_number"]),
                Text(step.get("step") or ""),
                Text(step.get("findings") or ""),
                step.get("confidence") or "",
                Text(step.get("provider") or step.get("mode") or ""),
            )
        out.print(table)
    elif last := document.get("last_step"):
        _step_panel(out, last, title_prefix="Last step")
    _expert(out, document.get("expert_validation"))


def _header(out: Console, data: dict[str, Any]) -> None:
    line = Text("Question: ", style="bold")
    line.append(data.get("question") or "", style="")
    out.print(line)
    confidence = Text("Confidence: ", style="bold")
    confidence.append(str(data.get("confidence")), style="cyan")
    out.print(confidence)
    if files := data.get("relevant_files"):
        out.print(Text("Files: " + ", ".join(files), style="dim"))


def _hypotheses(out: Console, hypotheses: list[dict[str, Any]]) -> None:
    if not hypotheses:
        return
    table = Table(title="Hypotheses", title_justify="left", show_lines=True)
    table.add_column("", style="bold")
    table.add_column("Status")
    table.add_column("Hypothesis")
    table.add_column("Evidence")
    for h in hypotheses:
        status = h.get("status", "active")
        table.add_row(
            h.get("id", ""),
            Text(status, style=_STATUS_STYLE.get(status, "")),
            Text(h.get("text", "")),
            Text("\n".join(f"• {e}" for e in h.get("evidence", []))),
        )
    out.print(table)


def _step_panel(out: Console, step: dict[str, Any], *, title_prefix: str = "Step") -> None:
    parts = []
    if step.get("step"):
        # In the body, not the title: a long step name would be cut off there.
        parts.append(f"**{step['step']}**")
    parts.append(step.get("findings") or "_no findings_")
    if step.get("analysis"):
        parts.append(f"**Analysis:** {step['analysis']}")
    if step.get("next_step"):
        parts.append(f"**Next:** {step['next_step']}")
    title = Text(f"{title_prefix} {step['step_number']} · {step.get('confidence')}")
    if step.get("provider"):
        title.append(f" · {step['provider']}")
    out.print(Panel(Markdown("\n\n".join(parts)), title=title, title_align="left"))


def _expert(out: Console, expert: dict[str, Any] | None) -> None:
    if not expert:
        return
    body = Text()
    body.append(f"Verdict: {expert.get('verdict') or 'none given'}", style="bold")
    if expert.get("confidence"):
        body.append(f" · confidence {expert['confidence']}")
    body.append(f"\n{expert.get('reasoning') or ''}")
    for concern in expert.get("concerns") or []:
        body.append(f"\n• {concern}")
    title = f"Expert review · {expert.get('provider')}"
    out.print(Panel(body, title=title, title_align="left", border_style="magenta"))
