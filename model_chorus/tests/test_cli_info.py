"""Discovery commands with no config file at all: --help, list-workflows, list-providers."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from model_chorus import __version__
from model_chorus.cli.app import app
from model_chorus.paths import default_database_path
from model_chorus.tests.fakes import TOOLS, FakeTools

WORKFLOWS = ["chat", "consensus", "argument", "ideate", "thinkdeep"]


def test_help_lists_the_commands_without_touching_the_data_dir() -> None:
    result = CliRunner().invoke(app, ["--help"])

    assert result.exit_code == 0
    for command in [*WORKFLOWS, "list-workflows", "list-providers", "threads", "version"]:
        assert command in result.stdout
    assert not default_database_path().exists()


def test_no_arguments_shows_help_not_an_error() -> None:
    result = CliRunner().invoke(app, [])

    assert "Usage" in result.output
    assert "list-workflows" in result.output


def test_list_workflows_json_comes_from_the_registry() -> None:
    result = CliRunner().invoke(app, ["list-workflows", "--json"])

    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1
    assert [w["name"] for w in doc["workflows"]] == WORKFLOWS
    chat = doc["workflows"][0]
    assert chat["multi_provider"] is False and chat["summary"] and chat["example"]
    assert {w["name"] for w in doc["workflows"] if w["multi_provider"]} >= {
        "consensus",
        "ideate",
    }


def test_list_workflows_console_table() -> None:
    result = CliRunner().invoke(app, ["list-workflows"])

    assert result.exit_code == 0
    for name in WORKFLOWS:
        assert name in result.stdout


def test_list_providers_with_every_tool_installed(fake_tools: FakeTools) -> None:
    result = CliRunner().invoke(app, ["list-providers", "--json"])

    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["default_provider"] == "claude"
    assert [p["name"] for p in doc["providers"]] == list(TOOLS)
    for provider in doc["providers"]:
        assert provider["installed"] is True
        assert provider["version"]
        assert provider["breaker"]["state"] == "closed"


def test_list_providers_with_none_installed_shows_install_commands(
    no_tools_path: Path,
) -> None:
    result = CliRunner().invoke(app, ["list-providers"])

    assert result.exit_code == 0
    assert "npm install -g @anthropic-ai/claude-code" in result.stdout
    assert "npm install -g @google/gemini-cli" in result.stdout
    assert "npm install -g @openai/codex" in result.stdout
    doc = json.loads(CliRunner().invoke(app, ["list-providers", "--json"]).stdout)
    assert not any(p["installed"] for p in doc["providers"])


def test_version_command_and_flag() -> None:
    flag = CliRunner().invoke(app, ["--version"])
    command = CliRunner().invoke(app, ["version", "--json"])

    assert flag.exit_code == 0 and flag.stdout.strip() == f"model-chorus {__version__}"
    assert json.loads(command.stdout)["version"] == __version__


def test_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["chatt", "hi"])

    assert result.exit_code == 2


def test_list_providers_does_not_create_the_database(fake_tools: FakeTools) -> None:
    result = CliRunner().invoke(app, ["list-providers", "--json"])

    assert result.exit_code == 0
    assert not default_database_path().exists()


def test_list_providers_survives_a_damaged_database(fake_tools: FakeTools) -> None:
    default_database_path().parent.mkdir(parents=True)
    default_database_path().write_bytes(b"this is not a database" * 100)

    result = CliRunner().invoke(app, ["list-providers", "--json"])

    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert {p["breaker"]["state"] for p in doc["providers"]} == {"unknown"}
    assert "Breaker states unknown" in result.stderr


def test_reset_breaker_closes_an_open_breaker(fake_tools: FakeTools) -> None:
    import time

    from model_chorus.store.database import ConversationDatabase

    with ConversationDatabase(default_database_path()) as db:
        db.set_breaker(
            "gemini",
            {"state": "open", "failures": 3, "opened_at": time.time(), "last_error": "overloaded"},
        )
    before = json.loads(CliRunner().invoke(app, ["list-providers", "--json"]).stdout)

    result = CliRunner().invoke(app, ["list-providers", "--reset-breaker", "gemini", "--json"])

    state = {p["name"]: p["breaker"]["state"] for p in before["providers"]}
    assert state["gemini"] == "open"
    assert result.exit_code == 0
    after = {p["name"]: p["breaker"]["state"] for p in json.loads(result.stdout)["providers"]}
    assert after["gemini"] == "closed"
    assert "closed (it was open)" in result.stderr


def test_reset_breaker_of_an_unknown_provider_is_exit_2() -> None:
    result = CliRunner().invoke(app, ["list-providers", "--reset-breaker", "nope"])

    assert result.exit_code == 2
