"""Console rendering of ``consensus`` results.

On a terminal: a panel per answer (all_responses) or the chosen answer with
the vote table or the synthesis. Piped: only the answer text on stdout (what a
script or a file wants) and the vote summary on stderr.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from model_chorus.cli.renderers import render_answer, render_footer, renderer
from model_chorus.cli.renderers.multi import provider_label

if TYPE_CHECKING:
    from model_chorus.cli.output import OutputFormatter
    from model_chorus.models import WorkflowResult


@renderer("consensus")
def render_consensus(result: WorkflowResult, fmt: OutputFormatter) -> None:
    data = result.data
    strategy = data.get("strategy", "all_responses")
    answers: list[dict[str, Any]] = data.get("answers", [])
    terminal = fmt.out.is_terminal
    if "votes" in data:
        _render_votes(data, answers, fmt)
    if terminal and strategy == "all_responses":
        for answer in answers:
            render_answer(
                fmt,
                answer["content"],
                title=escape(f"{answer['label']} · {provider_label(answer)}"),
            )
    else:
        render_answer(fmt, result.content, title=escape(_title(data, answers)))
    answered = ", ".join(a["provider"] for a in answers)
    render_footer(result, fmt, f"{strategy} · answered: {answered or 'none'}")


def _title(data: dict[str, Any], answers: list[dict[str, Any]]) -> str:
    by_label = {a["label"]: a for a in answers}
    if synthesis := data.get("synthesis"):
        return f"Synthesis · {provider_label(synthesis)}"
    if selected := data.get("selected"):
        chosen = by_label.get(selected["label"], selected)
        how = "First valid answer" if data.get("strategy") == "first_valid" else "Winner"
        return f"{how}: {selected['label']} · {provider_label(chosen)}"
    if data.get("tie"):
        return "Tie: " + ", ".join(data.get("tied", []))
    return "Answers"


def _render_votes(
    data: dict[str, Any], answers: list[dict[str, Any]], fmt: OutputFormatter
) -> None:
    votes: list[dict[str, Any]] = data.get("votes", [])
    scores: dict[str, float] = data.get("scores", {})
    names = {a["label"]: a["provider"] for a in answers}
    summary = ", ".join(
        f"{label} ({names.get(label, '?')}) {score:g}" for label, score in scores.items()
    )
    if data.get("tie"):
        summary += " — tie between " + " and ".join(data.get("tied", []))
    if not fmt.out.is_terminal:
        fmt.status(f"Votes: {summary}")
        return
    table = Table(title="Votes", title_justify="left")
    table.add_column("Voter", style="bold")
    table.add_column("Vote")
    if data.get("weighted"):
        table.add_column("Weight", justify="right")
    table.add_column("Reason")
    for vote in votes:
        label = vote.get("vote")
        cell = escape(f"{label} ({names.get(label, '?')})") if label else "[dim]abstained[/]"
        row = [escape(vote["voter"]), cell]
        if data.get("weighted"):
            row.append(f"{vote.get('weight', 1):g}")
        row.append(escape(vote.get("reason") or ""))
        table.add_row(*row)
    fmt.out.print(table)
    fmt.out.print(f"Scores: {summary}", markup=False)
