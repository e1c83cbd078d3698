"""Console rendering of consensus and argument results, on a (forced) terminal and piped."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from model_chorus.cli.output import OutputFormatter
from model_chorus.cli.renderers import render_result
from model_chorus.models import GenerationResponse, WorkflowResult


def formatter(*, terminal: bool) -> tuple[OutputFormatter, io.StringIO, io.StringIO]:
    fmt = OutputFormatter()
    out, err = io.StringIO(), io.StringIO()
    fmt.out = Console(file=out, force_terminal=terminal, width=100, no_color=True)
    fmt.err = Console(file=err, force_terminal=False, width=100, no_color=True)
    return fmt, out, err


def consensus_result(**data: Any) -> WorkflowResult:
    answers = [
        {"label": "A", "provider": "claude", "model": "opus", "content": "Use WAL [bold]now[/]."},
        {"label": "B", "provider": "gemini", "model": None, "content": "Avoid WAL on NFS."},
    ]
    return WorkflowResult(
        workflow="consensus",
        thread_id="0123456789abcdef",
        content="Use WAL [bold]now[/].",
        responses=[GenerationResponse(content="x", provider="claude")],
        data={"strategy": "all_responses", "answers": answers, "selected": None, **data},
        warnings=["codex did not vote"],
    )


def test_consensus_vote_table_on_a_terminal_shows_votes_and_abstentions() -> None:
    fmt, out, err = formatter(terminal=True)
    result = consensus_result(
        strategy="majority",
        selected={"label": "A", "provider": "claude"},
        votes=[
            {"voter": "claude", "vote": "A", "reason": "precise [link]", "weight": 1.0},
            {"voter": "gemini", "vote": None, "reason": "", "weight": 1.0},
        ],
        scores={"A": 1.0, "B": 0.0},
        weighted=False,
        winners=["A"],
        tie=False,
        tied=[],
    )

    render_result(result, fmt)

    text = out.getvalue()
    assert "Votes" in text and "A (claude)" in text and "abstained" in text
    assert "precise [link]" in text  # model text is never read as Rich markup
    assert "Winner: A · claude · opus" in text
    assert "Use WAL [bold]now[/]." in text
    assert "Scores: A (claude) 1, B (gemini) 0" in text
    assert "Warning: codex did not vote" in err.getvalue()
    assert "majority · answered: claude, gemini" in err.getvalue()


def test_consensus_all_responses_on_a_terminal_is_a_panel_per_answer() -> None:
    fmt, out, _ = formatter(terminal=True)

    render_result(consensus_result(), fmt)

    text = out.getvalue()
    assert "A · claude · opus" in text and "B · gemini" in text
    assert "Avoid WAL on NFS." in text


def test_consensus_piped_prints_only_the_answer_and_votes_go_to_stderr() -> None:
    fmt, out, err = formatter(terminal=False)
    result = consensus_result(
        strategy="majority",
        votes=[],
        scores={"A": 1.0, "B": 1.0},
        weighted=False,
        winners=["A", "B"],
        tie=True,
        tied=["A", "B"],
    )

    render_result(result, fmt)

    assert out.getvalue() == "Use WAL [bold]now[/].\n"
    assert "Votes: A (claude) 1, B (gemini) 1 — tie between A and B" in err.getvalue()


def argument_result() -> WorkflowResult:
    turn = {"provider": "claude", "model": None}
    return WorkflowResult(
        workflow="argument",
        thread_id="0123456789abcdef",
        content="Balanced.\nVerdict: Skeptic.",
        data={
            "topic": "Rewrite in Rust?",
            "follow_up": None,
            "roles": {"creator": "claude", "skeptic": "gemini", "moderator": "claude"},
            "rounds": [
                {
                    "round": 1,
                    "creator": {**turn, "text": "For it.", "key_points": ["Fast"]},
                    "skeptic": {
                        "provider": "gemini",
                        "model": None,
                        "text": "Against it.",
                        "key_points": ["Costly", "Risky"],
                    },
                }
            ],
            "key_points": {"for": ["Fast"], "against": ["Costly", "Risky"]},
            "synthesis": {**turn, "text": "...", "verdict": "Skeptic.", "recommendation": None},
        },
    )


def test_argument_on_a_terminal_shows_turns_key_points_and_verdict() -> None:
    fmt, out, err = formatter(terminal=True)

    render_result(argument_result(), fmt)

    text = out.getvalue()
    assert text.index("Round 1 · Creator (for) · claude") < text.index(
        "Round 1 · Skeptic (against) · gemini"
    )
    assert "Key points" in text and "Costly" in text and "Risky" in text
    assert "Moderator · claude" in text
    assert "Verdict: Skeptic." in text
    assert "Recommendation:" not in text
    assert "creator claude · skeptic gemini · moderator claude" in err.getvalue()


def test_argument_piped_is_one_markdown_document() -> None:
    fmt, out, _ = formatter(terminal=False)

    render_result(argument_result(), fmt)

    assert out.getvalue() == (
        "# Rewrite in Rust?\n\n"
        "## Round 1 — Creator (for) · claude\n\nFor it.\n\n"
        "## Round 1 — Skeptic (against) · gemini\n\nAgainst it.\n\n"
        "## Moderator · claude\n\nBalanced.\nVerdict: Skeptic.\n"
    )
