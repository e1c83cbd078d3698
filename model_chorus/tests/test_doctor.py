"""``model-chorus doctor`` against the fake tools: drift, missing tools, ping, database, config."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from model_chorus import doctor
from model_chorus.cli.app import app
from model_chorus.doctor import DoctorReport, run_doctor
from model_chorus.providers.registry import SPECS
from model_chorus.store import schema
from model_chorus.store.database import ConversationDatabase
from model_chorus.tests.fakes import FakeTools

DRIFT_CASES = [(name, flag) for name, spec in SPECS.items() for flag in spec.required_flags]


def run(*args: str) -> Result:
    return CliRunner().invoke(app, ["doctor", *args])


def run_json(*args: str, code: int = 0) -> dict[str, Any]:
    result = run(*args, "--json")
    assert result.exit_code == code, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def by_name(report: DoctorReport) -> dict[str, doctor.ProviderCheck]:
    return {p.name: p for p in report.providers}


def database_path(home: Path) -> Path:
    return home / ".local" / "share" / "model-chorus" / "chorus.db"


# --- everything fine --------------------------------------------------------------


def test_all_fakes_installed_is_ready(fake_tools: FakeTools) -> None:
    data = run_json()

    assert data["ok"] is True
    assert data["problems"] == []
    assert data["default_provider"] == "claude"
    assert [p["name"] for p in data["providers"]] == list(SPECS)
    for p in data["providers"]:
        assert p["installed"] and p["status"] == "ok", p
        assert p["flags"]["missing"] == []
        assert p["breaker"]["state"] == "closed"
        assert p["ping"] is None
    versions = {p["name"]: p["version"] for p in data["providers"]}
    assert versions["claude"] == "2.1.197"
    assert data["database"]["exists"] is False
    assert data["tokenizer"]
    assert data["python"].count(".") == 2
    # No real request without --ping; only --version and --help were asked.
    assert all(fake_tools.calls(name) == [] for name in SPECS)
    helps = fake_tools.calls("codex", kind="help")
    assert [c.argv for c in helps] == [["exec", "--help"]]


def test_console_report_says_ready(fake_tools: FakeTools) -> None:
    result = run()

    assert result.exit_code == 0, result.output
    assert "Ready" in result.stdout
    assert "claude (default)" in result.stdout
    assert "accepted" in result.stdout


# --- drift ------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "flag"), DRIFT_CASES, ids=[f"{n}{f}" for n, f in DRIFT_CASES])
async def test_each_dropped_flag_is_reported_as_drift(
    fake_tools: FakeTools, name: str, flag: str
) -> None:
    fake_tools.set(name, help_drop=flag)

    report = await run_doctor(providers=[name])

    [check] = report.providers
    assert check.flags is not None
    assert check.flags.missing == [flag]
    assert check.status == "fail"
    assert any(flag in problem for problem in check.problems)


def test_drift_of_the_default_provider_fails_and_names_the_flag(fake_tools: FakeTools) -> None:
    fake_tools.set("claude", help_drop="--disallowed-tools")

    result = run("-p", "claude")

    assert result.exit_code == 1
    assert "--disallowed-tools" in result.stdout
    assert "drift" in result.stdout
    assert "Not ready" in result.stdout


def test_drift_of_another_provider_is_reported_but_not_fatal(fake_tools: FakeTools) -> None:
    fake_tools.set("gemini", help_drop="--skip-trust")

    data = run_json("-p", "claude", "-p", "gemini")

    gemini = next(p for p in data["providers"] if p["name"] == "gemini")
    assert gemini["status"] == "fail"
    assert gemini["flags"]["missing"] == ["--skip-trust"]
    assert data["ok"] is True


def test_flags_are_read_from_the_names_column_only() -> None:
    listing = """Usage: tool [options]

Options:
  -p, --print                    Print and exit
  --output-format <format>       Output format (only works with --stream)
  --disallowedTools, --x-y <t...> Tools to deny
  -m, --model <MODEL>
          Model the agent should use; see also --hidden
"""

    assert doctor.listed_flags(listing) == {
        "-p",
        "--print",
        "--output-format",
        "--disallowedTools",
        "--x-y",
        "-m",
        "--model",
    }


async def test_flag_check_runs_the_help_command() -> None:
    tool = Path.cwd() / "tool"
    tool.write_text("#!/bin/sh\necho \"$@\" >&2\necho '  -p, --print   print'\n", encoding="utf-8")
    tool.chmod(0o755)

    found = await doctor.check_flags(str(tool), ["exec", "--help"], ["-p", "--gone"])

    assert (found.status, found.missing) == ("fail", ["--gone"])
    assert found.command == ["tool", "exec", "--help"]


async def test_flag_check_warns_when_help_prints_nothing() -> None:
    tool = Path.cwd() / "tool"
    tool.write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")
    tool.chmod(0o755)

    found = await doctor.check_flags(str(tool), ["--help"], ["-p"])

    assert found.status == "warn"
    assert found.missing == []
    assert found.error is not None and "printed nothing" in found.error


# --- missing, disabled, failing tools ---------------------------------------------


def test_default_provider_not_installed_fails_with_install_command(
    fake_tools: FakeTools,
) -> None:
    fake_tools.path_without("claude")

    data = run_json("-p", "claude", code=1)

    claude = next(p for p in data["providers"] if p["name"] == "claude")
    assert claude["installed"] is False
    assert "npm install -g @anthropic-ai/claude-code" in claude["problems"][0]
    assert data["problems"] == [f"claude: {claude['problems'][0]}"]


def test_another_provider_not_installed_is_fine(fake_tools: FakeTools) -> None:
    fake_tools.path_without("codex")

    data = run_json("-p", "claude", "-p", "codex")

    codex = next(p for p in data["providers"] if p["name"] == "codex")
    assert (codex["installed"], codex["status"]) == (False, "fail")


def test_nothing_installed(no_tools_path: Path) -> None:
    result = run()

    assert result.exit_code == 1
    assert "not installed" in result.stdout
    assert "npm install -g @google/gemini-cli" in result.stdout


def test_disabled_default_provider_fails(fake_tools: FakeTools) -> None:
    (Path.cwd() / ".model-chorus.toml").write_text(
        "[providers.claude]\nenabled = false\n", encoding="utf-8"
    )

    data = run_json("-p", "claude", code=1)

    claude = next(p for p in data["providers"] if p["name"] == "claude")
    assert claude["enabled"] is False
    assert "disabled" in claude["problems"][0]


# --- ping -------------------------------------------------------------------------


def test_ping_sends_one_tiny_request_to_each_provider(fake_tools: FakeTools) -> None:
    for name in SPECS:
        fake_tools.set(name, reply="pong")

    data = run_json("--ping")

    assert data["pinged"] is True
    for p in data["providers"]:
        assert p["ping"]["ok"] is True, p
        assert p["ping"]["reply"] == "pong"
        [call] = fake_tools.calls(p["name"])
        assert call.prompt is not None and "pong" in call.prompt


def test_ping_reports_error_kind_and_hint(fake_tools: FakeTools) -> None:
    fake_tools.set("claude", mode="auth")

    data = run_json("--ping", "-p", "claude", code=1)

    [claude] = data["providers"]
    assert claude["ping"]["ok"] is False
    assert claude["ping"]["error_kind"] == "auth_error"
    assert claude["ping"]["hint"]
    assert "auth_error" in claude["problems"][0]


def test_provider_option_limits_the_checks(fake_tools: FakeTools) -> None:
    data = run_json("-p", "gemini", "-p", "codex")

    assert [p["name"] for p in data["providers"]] == ["gemini", "codex"]


def test_unknown_provider_is_a_usage_error(fake_tools: FakeTools) -> None:
    result = run("-p", "gpt")

    assert result.exit_code == 2
    assert "Unknown provider" in result.stderr


async def test_providers_are_checked_concurrently(
    fake_tools: FakeTools, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_flight = 0
    most = 0
    real = doctor.check_flags

    async def counting(*args: Any, **kwargs: Any) -> doctor.FlagCheck:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        try:
            await asyncio.sleep(0.05)
            return await real(*args, **kwargs)
        finally:
            in_flight -= 1

    monkeypatch.setattr(doctor, "check_flags", counting)

    await run_doctor()

    assert most == len(SPECS)


# --- database, breaker, config ----------------------------------------------------


def test_database_and_open_breaker_are_reported(fake_tools: FakeTools, isolated_env: Path) -> None:
    path = database_path(isolated_env)
    with ConversationDatabase(path) as db:
        db.set_breaker(
            "gemini",
            {"state": "open", "failures": 3, "opened_at": time.time(), "last_error": "timeout: x"},
        )

    data = run_json("-p", "claude", "-p", "gemini")

    assert data["database"]["exists"] is True
    assert data["database"]["schema_version"] == schema.SCHEMA_VERSION
    assert data["database"]["size_bytes"] > 0
    gemini = next(p for p in data["providers"] if p["name"] == "gemini")
    assert gemini["breaker"]["state"] == "open"
    assert gemini["status"] == "warn"
    assert "circuit breaker open" in gemini["warnings"][0]
    assert data["ok"] is True  # a resting breaker heals itself; not fatal


def test_database_from_a_newer_version_fails(fake_tools: FakeTools, isolated_env: Path) -> None:
    path = database_path(isolated_env)
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")

    data = run_json("-p", "claude", code=1)

    assert "newer model-chorus" in data["database"]["error"]
    assert data["database"]["status"] == "fail"


def test_doctor_does_not_create_the_database(fake_tools: FakeTools, isolated_env: Path) -> None:
    run_json("-p", "claude")

    assert not database_path(isolated_env).exists()


def test_invalid_config_fails_but_providers_are_still_checked(fake_tools: FakeTools) -> None:
    (Path.cwd() / ".model-chorus.toml").write_text("timeout = -1\n", encoding="utf-8")

    data = run_json("-p", "claude", "-p", "gemini", code=1)

    project = next(f for f in data["config"]["files"] if f["origin"] == "project")
    assert project["valid"] is False
    assert "timeout" in project["error"]
    assert all(p["installed"] for p in data["providers"])


def test_invalid_environment_is_reported(
    fake_tools: FakeTools, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODEL_CHORUS_RETRY__MAX_ATTEMPTS", "0")

    data = run_json("-p", "claude", code=1)

    assert "MODEL_CHORUS_RETRY__MAX_ATTEMPTS" in data["config"]["error"]


def test_flags_in_a_wrapped_description_do_not_count_as_listed() -> None:
    from model_chorus.doctor import listed_flags

    help_text = (
        "Options:\n"
        "  --bare                 Minimal mode: skip hooks, plugins and memory; use\n"
        "                         --append-system-prompt[-file], --add-dir for context\n"
        "  -m, --model <model>    Model for the current session (only works with --print)\n"
        "      --skip-git-repo-check  Allow running outside a Git repository\n"
    )

    assert listed_flags(help_text) == {"--bare", "-m", "--model", "--skip-git-repo-check"}


def test_a_database_path_that_cannot_be_created_is_a_failure(fake_tools: FakeTools) -> None:
    Path("somefile").write_text("not a folder\n", encoding="utf-8")
    Path(".model-chorus.toml").write_text('database = "somefile/chorus.db"\n', encoding="utf-8")

    report = run_json(code=1)

    assert report["database"]["status"] == "fail"
    assert "cannot be created" in report["database"]["error"]
