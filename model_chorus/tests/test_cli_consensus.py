"""``model-chorus consensus`` end to end, with the fake AI tools standing in for the real ones."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from model_chorus.cli.app import app
from model_chorus.models import Message, Role
from model_chorus.paths import default_database_path
from model_chorus.store.database import ConversationDatabase
from model_chorus.tests.fakes import FakeTools

THREE = ["-p", "claude", "-p", "gemini", "-p", "codex"]


def run(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(app, ["consensus", *args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def vote(label: str) -> str:
    return f'```json\n{{"vote": "{label}", "reason": "clearest"}}\n```'


def labelled(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The answers by label: a vote shuffles which provider gets which label."""
    return {a["label"]: a for a in doc["data"]["answers"]}


def test_all_responses_from_three_providers(fake_tools: FakeTools) -> None:
    for tool in ("claude", "gemini", "codex"):
        fake_tools.set(tool, reply=f"{tool} thinks WAL is fine locally.")

    code, doc = run("Is WAL safe?", *THREE)

    assert code == 0, doc
    assert doc["workflow"] == "consensus"
    assert doc["data"]["strategy"] == "all_responses"
    assert [a["provider"] for a in doc["data"]["answers"]] == ["claude", "gemini", "codex"]
    assert "### gemini" in doc["content"]
    assert "gemini thinks WAL is fine locally." in doc["content"]
    assert {r["provider"] for r in doc["responses"]} == {"claude", "gemini", "codex"}
    for tool in ("claude", "gemini", "codex"):
        assert [c.prompt for c in fake_tools.calls(tool)] == ["Is WAL safe?"]


def test_the_fan_out_calls_overlap(fake_tools: FakeTools) -> None:
    latency = 1.5
    for tool in ("claude", "gemini", "codex"):
        fake_tools.set(tool, reply=f"{tool} says yes", latency=latency)

    code, doc = run("Q?", *THREE)

    assert code == 0, doc
    starts = [
        c.started_at for tool in ("claude", "gemini", "codex") for c in fake_tools.calls(tool)
    ]
    assert len(starts) == 3 and all(s is not None for s in starts)
    # Each call sleeps `latency` after it starts: had they run one after another, the
    # starts would lie at least `latency` apart. All began before the first could finish.
    assert max(starts) - min(starts) < latency  # type: ignore[type-var,operator]


def test_majority_vote_over_the_fakes(fake_tools: FakeTools) -> None:
    fake_tools.script("claude", [{"reply": "Use WAL."}, {"reply": vote("B")}])
    fake_tools.script("gemini", [{"reply": "Use WAL with checkpoints."}, {"reply": vote("B")}])
    fake_tools.script("codex", [{"reply": "Use DELETE mode."}, {"reply": "**Vote:** A"}])

    code, doc = run("Which journal mode?", *THREE, "--strategy", "majority")

    assert code == 0, doc
    data = doc["data"]
    winner = labelled(doc)["B"]
    assert doc["content"] == winner["content"]
    assert data["selected"] == {"label": "B", "provider": winner["provider"]}
    assert doc["provider"] == winner["provider"]  # the winner is the headline response
    assert data["scores"] == {"A": 1.0, "B": 2.0, "C": 0.0}
    assert data["tie"] is False
    ballot = fake_tools.calls("codex")[1].prompt or ""
    assert f'<answer label="B">\n{winner["content"]}\n</answer>' in ballot
    assert "gemini" not in ballot and "claude" not in ballot


def test_weighted_vote_uses_config_weights(fake_tools: FakeTools, tmp_path: Any) -> None:
    config = tmp_path / "chorus.toml"
    config.write_text("[providers.codex]\nweight = 5\n", encoding="utf-8")
    fake_tools.script("claude", [{"reply": "one"}, {"reply": vote("A")}])
    fake_tools.script("gemini", [{"reply": "two"}, {"reply": vote("A")}])
    fake_tools.script("codex", [{"reply": "three"}, {"reply": vote("C")}])

    result = CliRunner().invoke(
        app, ["--config", str(config), "consensus", "Q", *THREE, "-s", "weighted", "--json"]
    )
    doc = json.loads(result.stdout)

    assert result.exit_code == 0, doc
    # codex (weight 5) voted C, the others A: C wins whoever wrote it.
    assert doc["content"] == labelled(doc)["C"]["content"]
    assert doc["data"]["scores"] == {"A": 2.0, "B": 0.0, "C": 5.0}


def test_synthesize_with_a_synthesizer_outside_the_fan_out(fake_tools: FakeTools) -> None:
    fake_tools.set("claude", reply="claude: yes")
    fake_tools.set("gemini", reply="gemini: no")
    fake_tools.set(
        "codex",
        reply="## Answer\nIt depends.\n\n## Agreement\n- both care\n\n## Differences\n- yes vs no",
    )

    code, doc = run(
        "Q?", "-p", "claude", "-p", "gemini", "-s", "synthesize", "--synthesizer", "codex"
    )

    assert code == 0, doc
    assert doc["data"]["synthesis"]["provider"] == "codex"
    assert doc["data"]["synthesis"]["differences"] == ["yes vs no"]
    prompt = fake_tools.calls("codex")[0].prompt or ""
    assert "claude: yes" in prompt and "gemini: no" in prompt
    assert doc["provider"] == "codex"


def test_partial_failure_is_in_the_json(fake_tools: FakeTools) -> None:
    fake_tools.set("claude", reply="fine")
    fake_tools.set("gemini", mode="auth")
    fake_tools.set("codex", reply="also fine")

    code, doc = run("Q?", *THREE)

    assert code == 0, doc
    assert [a["provider"] for a in doc["data"]["answers"]] == ["claude", "codex"]
    assert [f["provider"] for f in doc["failures"]] == ["gemini"]
    assert doc["failures"][0]["kind"] == "auth_error"


def test_too_few_responses_exit_1_naming_who_failed(fake_tools: FakeTools) -> None:
    fake_tools.set("claude", reply="fine")
    fake_tools.set("gemini", mode="auth")
    fake_tools.set("codex", mode="bad_request")

    code, doc = run("Q?", *THREE, "--min-responses", "2")

    assert code == 1
    assert doc["error"]["type"] == "not_enough_answers"
    assert "gemini" in doc["error"]["message"] and "codex" in doc["error"]["message"]
    assert {f["provider"] for f in doc["error"]["failures"]} == {"gemini", "codex"}


def test_min_responses_above_provider_count_is_a_usage_error(fake_tools: FakeTools) -> None:
    code, doc = run("Q?", "-p", "claude", "--min-responses", "2")

    assert code == 2
    assert doc["error"]["type"] == "input_error"
    assert fake_tools.calls("claude") == []


def test_continue_keeps_the_thread_and_its_history(fake_tools: FakeTools) -> None:
    fake_tools.set("claude", reply="claude: first")
    fake_tools.set("gemini", reply="gemini: first")
    code, first = run("First question?", "-p", "claude", "-p", "gemini")
    assert code == 0, first

    fake_tools.set("claude", reply="claude: second")
    code, second = run("Follow-up?", "-p", "claude", "-p", "gemini", "-c", first["thread_id"][:8])

    assert code == 0, second
    assert second["thread_id"] == first["thread_id"]
    assert second["continued"] is True
    prompt = fake_tools.calls("gemini")[1].prompt or ""
    assert "First question?" in prompt and "gemini: first" in prompt
    assert prompt.rstrip().endswith("Follow-up?")


def test_console_output_labels_each_answer(fake_tools: FakeTools) -> None:
    fake_tools.set("claude", reply="claude answer")
    fake_tools.set("gemini", reply="gemini answer")

    result = CliRunner().invoke(app, ["consensus", "Q?", "-p", "claude", "-p", "gemini"])

    assert result.exit_code == 0, result.stderr
    # Piped stdout gets the plain labelled text (headings name provider and model).
    assert result.stdout.startswith("### claude (")
    assert "claude answer" in result.stdout and "### gemini (" in result.stdout
    assert "answered: claude, gemini" in result.stderr
    assert "--continue" in result.stderr


def another_runs_turn(current: dict[str, Any] | None) -> dict[str, Any]:
    state = current or {}
    return {**state, "turns": [*state.get("turns", []), {"turn": 2, "by": "another run"}]}


def test_a_turn_another_run_saved_meanwhile_is_kept_next_to_this_one(
    fake_tools: FakeTools, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_tools.set("claude", reply="WAL is fine.")
    code, first = run("Is WAL safe?", "-p", "claude")
    assert code == 0, first
    thread_id = first["thread_id"]

    # Right after this run reads the thread's state, another process saves its own turn.
    read = ConversationDatabase.get_state

    def read_then_another_run_saves(
        self: ConversationDatabase, tid: str, key: str
    ) -> dict[str, Any] | None:
        found = read(self, tid, key)
        with ConversationDatabase(self.path) as other:
            thread = other.get_thread(tid, with_messages=False)
            other.save_turn(
                thread,
                [Message(Role.USER, "Other run?"), Message(Role.ASSISTANT, "Other answer.")],
                state_key=key,
                merge=another_runs_turn,
            )
        return found

    monkeypatch.setattr(ConversationDatabase, "get_state", read_then_another_run_saves)
    code, doc = run("And on NFS?", "-p", "claude", "--continue", thread_id)
    monkeypatch.setattr(ConversationDatabase, "get_state", read)

    assert code == 0, doc
    with ConversationDatabase(default_database_path()) as db:
        contents = [m.content for m in db.get_messages(thread_id)]
        turns = (db.get_state(thread_id, "consensus") or {})["turns"]
    assert contents == [
        "Is WAL safe?",
        first["content"],
        "Other run?",
        "Other answer.",
        "And on NFS?",
        doc["content"],
    ]
    assert [t["turn"] for t in turns] == [1, 2, 3]  # this run's, after the other's
    assert turns[1]["by"] == "another run"
