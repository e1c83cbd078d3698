"""Console rendering of ``argument`` results: the debate round by round, the key
points per side, then the moderator's synthesis with its verdict.

On a terminal each turn is a panel; piped, the same debate is printed as one
Markdown document.
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

_TITLES = {"creator": "Creator (for)", "skeptic": "Skeptic (against)"}


@renderer("argument")
def render_argument(result: WorkflowResult, fmt: OutputFormatter) -> None:
    data = result.data
    rounds: list[dict[str, Any]] = data.get("rounds", [])
    synthesis: dict[str, Any] = data.get("synthesis", {})
    if fmt.out.is_terminal:
        for entry in rounds:
            for role in ("creator", "skeptic"):
                if turn := entry.get(role):
                    title = f"Round {entry['round']} · {_TITLES[role]} · {provider_label(turn)}"
                    render_answer(fmt, turn["text"], title=escape(title))
        _render_key_points(data.get("key_points", {}), fmt)
        render_answer(fmt, result.content, title=escape(f"Moderator · {provider_label(synthesis)}"))
        for label in ("verdict", "recommendation"):
            if synthesis.get(label):
                fmt.out.print(f"[bold]{label.capitalize()}:[/] ", end="")
                fmt.out.print(synthesis[label], markup=False)
    else:
        fmt.text(debate_markdown(data, result.content))
    roles = data.get("roles", {})
    who = " · ".join(f"{role} {name}" for role, name in roles.items())
    render_footer(result, fmt, who or "argument")


def _render_key_points(points: dict[str, list[str]], fmt: OutputFormatter) -> None:
    pro, con = points.get("for", []), points.get("against", [])
    if not pro and not con:
        return
    table = Table(title="Key points", title_justify="left", show_lines=True)
    table.add_column("For")
    table.add_column("Against")
    for index in range(max(len(pro), len(con))):
        table.add_row(
            escape(pro[index]) if index < len(pro) else "",
            escape(con[index]) if index < len(con) else "",
        )
    fmt.out.print(table)


def debate_markdown(data: dict[str, Any], synthesis_text: str) -> str:
    """The whole debate as Markdown, for pipes and files."""
    parts: list[str] = []
    if topic := data.get("topic"):
        parts.append(f"# {topic}")
    if follow_up := data.get("follow_up"):
        parts.append(f"_Follow-up: {follow_up}_")
    for entry in data.get("rounds", []):
        for role in ("creator", "skeptic"):
            if turn := entry.get(role):
                heading = f"## Round {entry['round']} — {_TITLES[role]} · {provider_label(turn)}"
                parts.append(f"{heading}\n\n{turn['text'].strip()}")
    synthesis = data.get("synthesis", {})
    parts.append(f"## Moderator · {provider_label(synthesis)}\n\n{synthesis_text.strip()}")
    return "\n\n".join(parts)
