"""Console rendering of ``ideate`` results.

On a terminal: the recommendation, a score table of the themes, then each
theme's ideas. Piped: the same summary as one Markdown document (the
result's content), which is also what ``-o`` writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from model_chorus.cli.renderers import render_footer, renderer
from model_chorus.wording import plural

if TYPE_CHECKING:
    from model_chorus.cli.output import OutputFormatter
    from model_chorus.models import WorkflowResult

SCORES = ("feasibility", "impact", "novelty")


@renderer("ideate")
def render_ideate(result: WorkflowResult, fmt: OutputFormatter) -> None:
    data = result.data
    if fmt.out.is_terminal:
        _render_recommendation(data, fmt)
        _render_clusters(data, fmt)
    else:
        fmt.text(result.content)
    brainstormed = ", ".join(data.get("rounds", [{}])[-1].get("providers", []))
    new = len(data.get("new_idea_ids", []))
    dropped = len(data.get("duplicates_dropped", []))
    who = (
        f"round {data.get('round', 1)} · {plural(new, 'new idea')} "
        f"({plural(dropped, 'repeat')} dropped) "
        f"from {brainstormed or 'none'} · clustering: {data.get('clustering')}"
    )
    render_footer(result, fmt, who)


def _render_recommendation(data: dict[str, Any], fmt: OutputFormatter) -> None:
    rec = data.get("recommendation")
    if not rec:
        return
    body = Text()
    body.append(f"{rec.get('cluster')} · {rec.get('theme') or ''}\n", style="bold")
    body.append(str(rec.get("reason") or ""))
    if rec.get("source") == "scores":
        body.append("\n(chosen by total score)", style="dim")
    fmt.out.print(Panel(body, title="Recommendation", title_align="left", border_style="green"))


def _render_clusters(data: dict[str, Any], fmt: OutputFormatter) -> None:
    ideas = {idea["id"]: idea for idea in data.get("ideas", [])}
    clusters: list[dict[str, Any]] = data.get("clusters", [])
    table = Table(title=f"Themes from {len(ideas)} ideas", title_justify="left")
    table.add_column("", style="bold")
    table.add_column("Theme")
    for name in SCORES:
        table.add_column(name.capitalize(), justify="right")
    table.add_column("Total", justify="right", style="bold")
    table.add_column("Ideas", justify="right")
    for cluster in clusters:
        scores = cluster.get("scores", {})
        table.add_row(
            cluster["id"],
            Text(cluster.get("theme") or ""),
            *(_score(scores.get(name)) for name in SCORES),
            _score(cluster.get("total")),
            str(len(cluster.get("idea_ids", []))),
        )
    fmt.out.print(table)
    for cluster in clusters:
        fmt.out.print(f"\n[bold]{escape(cluster['id'])} · {escape(cluster.get('theme') or '')}[/]")
        if cluster.get("rationale"):
            fmt.out.print(Text(cluster["rationale"], style="dim"))
        for idea_id in cluster.get("idea_ids", []):
            idea = ideas.get(idea_id)
            if idea is None:
                continue
            line = Text("  • ")
            line.append(idea["title"], style="bold")
            if idea.get("description"):
                line.append(f": {idea['description']}")
            who = ", ".join(filter(None, [idea.get("provider"), *idea.get("also_from", [])]))
            line.append(f"  ({idea_id}, {who})", style="dim")
            fmt.out.print(line)


def _score(value: Any) -> str:
    return "–" if value is None else f"{value:g}"
