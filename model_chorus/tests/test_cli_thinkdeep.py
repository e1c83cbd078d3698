"""``model-chorus thinkdeep`` and ``thinkdeep-status`` end to end, over the fake AI tools."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, get_args

from typer.testing import CliRunner

from model_chorus.cli.app import app
from model_chorus.cli.commands.thinkdeep import Confidence
from model_chorus.tests.fakes import FakeTools
from model_chorus.workflows.investigation import CONFIDENCE_LEVELS

LEGACY_DIR = Path(__file__).parent / "data" / "legacy"
LEGACY_ID = "46188f4b-bf15-490a-b56d-5e810ce989eb"


def run(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(app, [*args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def step(findings: str, confidence: str, **extra: Any) -> dict[str, str]:
    body = {"findings": findings, "confidence": confidence, **extra}
    return {"reply": "```json\n" + json.dumps(body) + "\n```"}


def test_confidence_choices_match_the_workflow() -> None:
    assert get_args(Confidence) == CONFIDENCE_LEVELS


def test_autonomous_run_with_a_file_and_an_expert(fake_tools: FakeTools) -> None:
    Path("auth.py").write_text("def login(token):\n    return token.exp > now()\n", "utf-8")
    fake_tools.script(
        "claude",
        [
            step(
                "login() compares expiry with the local clock (auth.py:2).",
                "low",
                hypotheses=[{"text": "Clock skew between servers", "status": "active"}],
                next_step="Compare node clocks",
            ),
            step(
                "node-3 is 95 s behind.", "high", hypotheses=[{"id": "H1", "status": "validated"}]
            ),
        ],
    )
    fake_tools.set("gemini", reply="Verdict: agree\nReasoning: The skew explains the failures.")

    code, doc = run(
        "thinkdeep",
        "Why do logins fail?",
        "-p",
        "claude",
        "-f",
        "auth.py",
        "--max-steps",
        "4",
        "-e",
        "gemini",
    )

    assert code == 0, doc
    data = doc["data"]
    assert [s["findings"] for s in data["steps"]] == [
        "login() compares expiry with the local clock (auth.py:2).",
        "node-3 is 95 s behind.",
    ]
    assert data["confidence"] == "high"
    assert data["hypotheses"][0]["status"] == "validated"
    assert data["run"]["stopped"] == "target_reached"
    assert data["relevant_files"] == ["auth.py"]
    assert data["expert_validation"]["verdict"] == "agree"
    assert data["expert_validation"]["provider"] == "gemini"
    first, second = (c.prompt or "" for c in fake_tools.calls("claude"))
    assert "return token.exp > now()" in first and "return token.exp > now()" in second
    assert "Findings: login() compares expiry with the local clock" in second
    assert "The previous step suggested: Compare node clocks" in second
    [review] = fake_tools.calls("gemini")
    assert "Findings: node-3 is 95 s behind." in (review.prompt or "")
    assert "- H1 [validated] Clock skew between servers" in (review.prompt or "")


def test_manual_steps_without_a_prompt_then_continued(fake_tools: FakeTools) -> None:
    fake_tools.script(
        "claude",
        [step("NTP off explains drift.", "medium"), step("Both nodes drift.", "high")],
    )
    code, first = run(
        "thinkdeep",
        "-p",
        "claude",
        "--step",
        "Check NTP config",
        "--findings",
        "NTP disabled on node-3",
        "--hypothesis",
        "Clock skew",
        "--confidence",
        "medium",
    )
    assert code == 0, first
    thread = first["thread_id"]
    code, second = run(
        "thinkdeep",
        "-p",
        "claude",
        "--continue",
        thread[:8],
        "--step",
        "Check node-2",
        "--findings",
        "node-2 drifts too",
        "--hypothesis",
        "clock skew",
        "--confidence",
        "high",
    )
    assert code == 0, second
    data = second["data"]
    assert [(s["step_number"], s["step"], s["findings"]) for s in data["steps"]] == [
        (1, "Check NTP config", "NTP disabled on node-3"),
        (2, "Check node-2", "node-2 drifts too"),
    ]
    assert data["hypotheses"] == [
        {
            "id": "H1",
            "text": "Clock skew",
            "status": "active",
            "evidence": ["NTP disabled on node-3", "node-2 drifts too"],
        }
    ]
    assert data["confidence"] == "high"
    assert "Findings: NTP disabled on node-3" in (fake_tools.calls("claude")[1].prompt or "")

    code, status = run("thinkdeep-status", thread[:8], "--steps")
    assert code == 0, status
    assert status["thread_id"] == thread
    assert (status["question"], status["confidence"], status["step_count"]) == (
        "Check NTP config",
        "high",
        2,
    )
    assert [s["step"] for s in status["steps"]] == ["Check NTP config", "Check node-2"]
    assert len(fake_tools.calls("claude")) == 2  # the status called no model


def test_manual_step_continues_an_imported_legacy_thread(
    fake_tools: FakeTools, tmp_path: Path
) -> None:
    folder = tmp_path / "old"
    folder.mkdir()
    shutil.copy(LEGACY_DIR / f"{LEGACY_ID}.json", folder)
    code, report = run("migrate-json", str(folder))
    assert code == 0 and report["migration"]["imported"] == [LEGACY_ID], report
    fake_tools.set("claude", reply=json.dumps({"findings": "Agreed.", "confidence": "high"}))

    code, doc = run(
        "thinkdeep",
        "-p",
        "claude",
        "-c",
        LEGACY_ID[:8],
        "--step",
        "Check node-2",
        "--findings",
        "node-2 is fine",
    )

    assert code == 0, doc
    assert [s["step_number"] for s in doc["data"]["steps"]] == [1, 2, 3]
    assert doc["data"]["hypotheses"][0]["text"] == "Clock skew between servers"
    code, status = run("thinkdeep-status", LEGACY_ID)
    assert code == 0 and status["step_count"] == 3 and "steps" not in status


def test_status_of_an_unknown_thread_is_exit_2(fake_tools: FakeTools) -> None:
    code, doc = run("thinkdeep-status", "deadbeef")
    assert code == 2
    assert doc["error"]["type"] == "thread_not_found"


def test_status_on_the_console(fake_tools: FakeTools) -> None:
    fake_tools.set(
        "claude",
        reply=json.dumps(
            {
                "findings": "Tokens expire early.",
                "confidence": "low",
                "hypotheses": [{"text": "Clock skew", "status": "active"}],
            }
        ),
    )
    code, doc = run("thinkdeep", "Why?", "-p", "claude", "--max-steps", "1")
    assert code == 0, doc
    result = CliRunner().invoke(app, ["thinkdeep-status", doc["thread_id"]])
    assert result.exit_code == 0, result.output
    for text in ("Question: Why?", "Confidence: low", "Clock skew", "Tokens expire early."):
        assert text in result.stdout


def test_a_failing_later_step_exits_1_naming_the_step(fake_tools: FakeTools) -> None:
    fake_tools.script("claude", [step("First look.", "low"), {"mode": "auth"}])
    code, doc = run("thinkdeep", "Why?", "-p", "claude", "--max-steps", "3")
    assert code == 1
    assert doc["error"]["type"] == "workflow_error"
    assert doc["error"]["message"].startswith("step 2: ")
    assert "saved" in doc["error"]["hint"]


def test_a_failing_third_step_reports_the_saved_thread(fake_tools: FakeTools) -> None:
    fake_tools.script(
        "claude", [step("First look.", "low"), step("Second look.", "low"), {"mode": "auth"}]
    )
    code, doc = run("thinkdeep", "Why?", "-p", "claude", "--max-steps", "4")
    assert code == 1
    assert doc["thread_id"] is not None
    message = doc["error"]["message"]
    assert message.startswith("step 3: ") and message.lower().count("step 3") == 1, message
    code, status = run("thinkdeep-status", doc["thread_id"])
    assert code == 0 and status["step_count"] == 2
