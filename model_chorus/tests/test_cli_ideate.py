"""``model-chorus ideate`` end to end, with the fake AI tools standing in for the real ones."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from model_chorus.cli.app import app
from model_chorus.tests.fakes import FakeTools

TWO = ["-p", "claude", "-p", "gemini"]


def run(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(app, ["ideate", *args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def ideas(*titles: str) -> dict[str, str]:
    items = [{"title": t, "description": f"{t}, described."} for t in titles]
    return {"reply": "```json\n" + json.dumps({"ideas": items}) + "\n```"}


CLUSTERS = {
    "reply": '```json\n{"clusters": [{"theme": "Caching", "idea_ids": ["I1", "I3"]}, '
    '{"theme": "Parallel work", "idea_ids": ["I2", "I4"]}]}\n```'
}
SCORES = {
    "reply": "| Cluster | Feasibility | Impact | Novelty |\n|---|---|---|---|\n"
    "| C1 | 5 | 3 | 1 |\n| C2 | 3 | 5 | 2 |\n\nRecommendation: C2 — biggest win"
}


def test_brainstorm_cluster_score_with_two_providers(fake_tools: FakeTools) -> None:
    fake_tools.script("claude", [ideas("Cache dependencies", "Shard the tests"), CLUSTERS, SCORES])
    fake_tools.script("gemini", [ideas("Remote build cache", "Run jobs in parallel", "Spare")])

    code, doc = run("Ways to cut CI time", *TWO, "-n", "2")

    assert code == 0, doc
    data = doc["data"]
    assert [(i["id"], i["title"], i["provider"]) for i in data["ideas"]] == [
        ("I1", "Cache dependencies", "claude"),
        ("I2", "Shard the tests", "claude"),
        ("I3", "Remote build cache", "gemini"),
        ("I4", "Run jobs in parallel", "gemini"),
    ]
    assert [(c["theme"], c["idea_ids"], c["total"]) for c in data["clusters"]] == [
        ("Caching", ["I1", "I3"], 9),
        ("Parallel work", ["I2", "I4"], 10),
    ]
    assert data["clustering"] == "model"
    assert data["recommendation"]["cluster"] == "C2"
    assert data["recommendation"]["reason"] == "biggest win"
    # Both brainstormed the same request; only the primary clustered and scored.
    gemini_calls = fake_tools.calls("gemini")
    claude_calls = fake_tools.calls("claude")
    assert len(gemini_calls) == 1 and len(claude_calls) == 3
    for call in (claude_calls[0], gemini_calls[0]):
        assert "Propose exactly 2 distinct" in (call.prompt or "")
        assert "Topic: Ways to cut CI time" in (call.prompt or "")
    assert "I3: Remote build cache" in (claude_calls[1].prompt or "")
    assert "C2: Parallel work — ideas: Shard the tests; Run jobs in parallel" in (
        claude_calls[2].prompt or ""
    )
    assert [r["provider"] for r in doc["responses"]] == ["claude", "gemini", "claude", "claude"]
    assert doc["warnings"] == [] and doc["failures"] == []


def test_the_brainstorm_calls_overlap(fake_tools: FakeTools) -> None:
    latency = 1.5
    fake_tools.script("claude", [{**ideas("Cache dependencies"), "latency": latency}, SCORES])
    fake_tools.script("gemini", [{**ideas("Shard the tests"), "latency": latency}])

    code, doc = run("Ways to cut CI time", *TWO, "--no-model-clustering")

    assert code == 0, doc
    starts = [fake_tools.calls("claude")[0].started_at, fake_tools.calls("gemini")[0].started_at]
    assert all(s is not None for s in starts)
    # Each brainstorm sleeps `latency` after it starts; run one after the other, the starts
    # would lie at least `latency` apart.
    assert max(starts) - min(starts) < latency  # type: ignore[type-var,operator]


def test_perspectives_and_lexical_clustering_from_the_command_line(
    fake_tools: FakeTools,
) -> None:
    fake_tools.script(
        "claude",
        [ideas("Cheaper runners"), ideas("Signed artifacts"), SCORES],
    )
    code, doc = run(
        "CI", "-p", "claude", "--perspectives", "cost,security", "--no-model-clustering"
    )
    assert code == 0, doc
    calls = fake_tools.calls("claude")
    assert len(calls) == 3  # two brainstorms and the scoring; no clustering call
    # The two brainstorms run at once, so either may get either scripted reply: pair
    # each reply (by its script step) with the perspective its prompt asked for.
    asked = {}
    for call in calls:
        for perspective in ("cost", "security"):
            if f"from the {perspective} perspective" in (call.prompt or ""):
                asked[["Cheaper runners", "Signed artifacts"][call.step or 0]] = perspective
    assert sorted(asked.values()) == ["cost", "security"]
    assert doc["data"]["clustering"] == "lexical"
    assert {i["title"]: i["perspective"] for i in doc["data"]["ideas"]} == asked


def test_continue_adds_a_round(fake_tools: FakeTools) -> None:
    fake_tools.script(
        "claude",
        [
            ideas("Cache dependencies", "Shard the tests"),
            SCORES,
            ideas("Shard the tests", "Quarantine flaky tests"),
            SCORES,
        ],
    )
    code, first = run("Ways to cut CI time", "-p", "claude", "--no-model-clustering")
    assert code == 0, first
    code, second = run(
        "Now about flaky tests",
        "-p",
        "claude",
        "-c",
        first["thread_id"][:8],
        "--no-model-clustering",
    )
    assert code == 0, second
    assert second["continued"] and second["thread_id"] == first["thread_id"]
    assert second["data"]["round"] == 2
    assert second["data"]["new_idea_ids"] == ["I3"]
    assert [i["title"] for i in second["data"]["ideas"]] == [
        "Cache dependencies",
        "Shard the tests",
        "Quarantine flaky tests",
    ]
    round_two = fake_tools.calls("claude")[2].prompt or ""
    assert "- Cache dependencies\n- Shard the tests" in round_two
    assert "Guidance for this round: Now about flaky tests" in round_two


def test_every_provider_failing_exits_1_naming_the_step(fake_tools: FakeTools) -> None:
    fake_tools.set("claude", mode="auth")
    fake_tools.set("gemini", mode="auth")
    code, doc = run("Ways to cut CI time", *TWO)
    assert code == 1
    assert doc["error"]["type"] == "all_providers_failed"
    assert "ideate brainstorm" in doc["error"]["message"]
    assert {f["provider"] for f in doc["error"]["failures"]} == {"claude", "gemini"}


def test_console_output_is_the_summary_when_piped(fake_tools: FakeTools) -> None:
    fake_tools.script("claude", [ideas("Cache dependencies", "Shard the tests"), SCORES])
    result = CliRunner().invoke(app, ["ideate", "CI", "-p", "claude", "--no-model-clustering"])
    assert result.exit_code == 0, result.output
    assert "## Themes (2) from 2 ideas" in result.stdout
    assert "- **Cache dependencies**: Cache dependencies, described. (I1, claude)" in result.stdout


def test_ideate_and_thinkdeep_are_listed() -> None:
    result = CliRunner().invoke(app, ["list-workflows", "--json"])
    listed = {w["name"]: w for w in json.loads(result.stdout)["workflows"]}
    assert listed["ideate"]["multi_provider"] is True
    assert listed["ideate"]["policy"] == "parallel"
    assert listed["thinkdeep"]["multi_provider"] is False
