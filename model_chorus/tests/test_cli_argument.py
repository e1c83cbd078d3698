"""``model-chorus argument`` end to end, with the fake AI tools standing in for the real ones."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from model_chorus.cli.app import app
from model_chorus.tests.fakes import FakeTools

CREATOR = "Rust ends GC pauses.\n\nKey points:\n- No GC pauses\n- Memory safety"
SKEPTIC = "The team knows no Rust.\n\n**Key Points:**\n1. Skills gap\n2. Rewrite risk"
MODERATOR = "Fair points both ways.\n\nVerdict: Skeptic.\nRecommendation: Profile first."


def run(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(app, ["argument", *args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_roles_on_three_providers_see_each_other(fake_tools: FakeTools) -> None:
    fake_tools.set("claude", reply=CREATOR)
    fake_tools.set("gemini", reply=SKEPTIC)
    fake_tools.set("codex", reply=MODERATOR)

    code, doc = run(
        "Rewrite billing in Rust?",
        "--creator",
        "claude",
        "--skeptic",
        "gemini",
        "--moderator",
        "codex",
    )

    assert code == 0, doc
    skeptic_prompt = fake_tools.calls("gemini")[0].prompt or ""
    assert "Rust ends GC pauses." in skeptic_prompt
    moderator_prompt = fake_tools.calls("codex")[0].prompt or ""
    assert "Rust ends GC pauses." in moderator_prompt
    assert "The team knows no Rust." in moderator_prompt
    data = doc["data"]
    assert data["roles"] == {"creator": "claude", "skeptic": "gemini", "moderator": "codex"}
    assert data["key_points"] == {
        "for": ["No GC pauses", "Memory safety"],
        "against": ["Skills gap", "Rewrite risk"],
    }
    assert data["synthesis"]["verdict"] == "Skeptic."
    assert data["synthesis"]["recommendation"] == "Profile first."
    assert doc["content"] == MODERATOR
    assert doc["provider"] == "codex"


def test_two_rounds_on_one_provider_then_continue(fake_tools: FakeTools) -> None:
    fake_tools.script(
        "claude",
        [
            {"reply": CREATOR},
            {"reply": SKEPTIC},
            {"reply": "Training is cheap.\n\nKey points:\n- Training is cheap"},
            {"reply": SKEPTIC},
            {"reply": MODERATOR},
            {"reply": "Only the PDF part then.\n\nKey points:\n- Smaller scope"},
            {"reply": SKEPTIC},
            {"reply": "Verdict: Creator, for the small scope."},
        ],
    )

    code, first = run("Rewrite billing in Rust?", "-p", "claude", "--rounds", "2")

    assert code == 0, first
    calls = fake_tools.calls("claude")
    assert len(calls) == 5
    assert "The team knows no Rust." in (calls[2].prompt or "")  # creator answers the rebuttal
    assert [r["round"] for r in first["data"]["rounds"]] == [1, 2]
    assert first["data"]["key_points"]["for"] == [
        "No GC pauses",
        "Memory safety",
        "Training is cheap",
    ]

    code, second = run("Only the PDF renderer?", "-p", "claude", "-c", first["thread_id"])

    assert code == 0, second
    assert second["continued"] is True
    assert second["data"]["rounds"][0]["round"] == 3
    continued_prompt = fake_tools.calls("claude")[5].prompt or ""
    assert "Moderator, round 2 (claude): Fair points both ways." in continued_prompt
    assert "Only the PDF renderer?" in continued_prompt
    assert second["data"]["synthesis"]["verdict"] == "Creator, for the small scope."


def test_a_failing_role_exits_1_and_names_the_step(fake_tools: FakeTools) -> None:
    fake_tools.set("claude", reply=CREATOR)
    fake_tools.set("gemini", mode="auth")

    code, doc = run("Rewrite?", "-p", "claude", "--skeptic", "gemini")

    assert code == 1
    assert "round 1: skeptic" in doc["error"]["message"]
    assert [f["provider"] for f in doc["error"]["failures"]] == ["gemini"]


def test_rounds_above_the_maximum_is_a_usage_error(fake_tools: FakeTools) -> None:
    result = CliRunner().invoke(app, ["argument", "Rewrite?", "--rounds", "9"])
    assert result.exit_code == 2
    assert fake_tools.calls("claude") == []


def test_console_output_shows_the_debate(fake_tools: FakeTools) -> None:
    fake_tools.set("claude", reply=CREATOR)
    fake_tools.set("gemini", reply=SKEPTIC)

    result = CliRunner().invoke(
        app, ["argument", "Rewrite?", "-p", "claude", "--skeptic", "gemini"]
    )

    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith("# Rewrite?")
    assert "## Round 1 — Creator (for) · claude" in out
    assert "## Round 1 — Skeptic (against) · gemini" in out
    assert "## Moderator · claude" in out
    assert "creator claude · skeptic gemini · moderator claude" in result.stderr
