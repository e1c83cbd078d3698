"""``model-chorus config path|show|init|validate`` through the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from model_chorus.cli.app import app


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def run_json(*args: str, code: int = 0, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = run(*args, "--json", env=env)
    assert result.exit_code == code, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def user_file(home: Path) -> Path:
    return home / ".config" / "model-chorus" / "config.toml"


# --- init ----------------------------------------------------------------------------


def test_init_validate_show_round_trip(isolated_env: Path) -> None:
    init = run("config", "init")
    assert init.exit_code == 0, init.output
    written = user_file(isolated_env)
    assert written.is_file()
    assert str(written) in init.stdout

    validate = run_json("config", "validate")
    assert validate["valid"] is True
    assert [(f["path"], f["valid"]) for f in validate["files"]] == [(str(written), True)]

    show = run_json("config", "show")
    assert show["files"] == [str(written)]
    assert all(v["origin"] == "default" for v in show["values"])
    assert run_json("config", "show", "--changed")["values"] == []


def test_init_refuses_to_overwrite_without_force(isolated_env: Path) -> None:
    target = user_file(isolated_env)
    target.parent.mkdir(parents=True)
    target.write_text('default_provider = "gemini"\n', encoding="utf-8")

    refused = run("config", "init")

    assert refused.exit_code == 2
    assert "already exists" in refused.stderr
    assert "--force" in refused.stderr
    assert target.read_text(encoding="utf-8") == 'default_provider = "gemini"\n'

    forced = run_json("config", "init", "--force")
    assert forced["overwritten"] is True
    assert "default_provider = " in target.read_text(encoding="utf-8")
    assert run_json("config", "show")["settings"]["default_provider"] == "claude"


def test_init_project_writes_here_and_json_names_it() -> None:
    data = run_json("config", "init", "--project")

    here = Path.cwd() / ".model-chorus.toml"
    assert data == {"schema_version": 1, "path": str(here), "overwritten": False}
    assert here.read_text(encoding="utf-8").startswith("# model-chorus configuration")
    assert run("config", "init", "--project").exit_code == 2


# --- validate ------------------------------------------------------------------------


def test_validate_names_file_key_and_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[providers.gemini]\nmodle = "flash"\n', encoding="utf-8")

    result = run("config", "validate", str(bad))

    assert result.exit_code == 2
    assert str(bad) in result.stderr
    assert "providers.gemini.modle" in result.stderr
    assert "unknown key" in result.stderr
    assert "invalid" in result.stdout


def test_validate_json_reports_every_file(isolated_env: Path) -> None:
    good = user_file(isolated_env)
    good.parent.mkdir(parents=True)
    good.write_text("timeout = 30\n", encoding="utf-8")
    (Path.cwd() / ".model-chorus.toml").write_text("timeout = 'soon'\n", encoding="utf-8")

    data = run_json("config", "validate", code=2)

    assert data["valid"] is False
    assert [(f["origin"], f["valid"]) for f in data["files"]] == [
        ("user", True),
        ("project", False),
    ]
    assert "key 'timeout'" in data["files"][1]["error"]
    assert data["error"]["type"] == "config_error"


def test_validate_bad_toml_and_missing_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("timeout = = 3\n", encoding="utf-8")

    assert "not valid TOML" in run("config", "validate", str(broken)).stderr
    missing = run("config", "validate", str(tmp_path / "nope.toml"))
    assert missing.exit_code == 2
    assert "does not exist" in missing.stderr


def test_validate_checks_the_environment_too() -> None:
    result = run("config", "validate", env={"MODEL_CHORUS_RETRY__MAX_ATTEMPTS": "0"})

    assert result.exit_code == 2
    assert "MODEL_CHORUS_RETRY__MAX_ATTEMPTS" in result.stderr


def test_validate_with_no_files_says_defaults_apply() -> None:
    result = run("config", "validate")

    assert result.exit_code == 0
    assert "defaults apply" in result.stdout


def test_validate_uses_the_global_config_option(tmp_path: Path) -> None:
    extra = tmp_path / "extra.toml"
    extra.write_text("timeout = 0\n", encoding="utf-8")

    data = run_json("--config", str(extra), "config", "validate", code=2)

    assert [(f["origin"], f["valid"]) for f in data["files"]] == [("explicit", False)]


# --- show and path -------------------------------------------------------------------


def test_show_reports_file_and_env_sources(isolated_env: Path) -> None:
    (Path.cwd() / ".model-chorus.toml").write_text(
        '[providers.gemini]\nmodel = "flash"\n', encoding="utf-8"
    )

    data = run_json("config", "show", "--changed", env={"MODEL_CHORUS_TIMEOUT": "42"})

    assert [(v["key"], v["value"], v["origin"]) for v in data["values"]] == [
        ("timeout", 42.0, "env"),
        ("providers.gemini.model", "flash", "project"),
    ]
    console = run("config", "show", env={"MODEL_CHORUS_TIMEOUT": "42"})
    assert console.exit_code == 0
    assert "env: MODEL_CHORUS_TIMEOUT" in console.stdout
    assert "providers.gemini.model" in console.stdout


def test_show_with_an_invalid_file_exits_2(isolated_env: Path) -> None:
    (Path.cwd() / ".model-chorus.toml").write_text("nonsense = 1\n", encoding="utf-8")

    result = run("config", "show")

    assert result.exit_code == 2
    assert "nonsense" in result.stderr


def test_path_lists_files_database_and_environment(isolated_env: Path, tmp_path: Path) -> None:
    explicit = tmp_path / "mine.toml"
    explicit.write_text("", encoding="utf-8")
    env = {"MODEL_CHORUS_DEBUG": "1", "MODEL_CHORUS_TIMOUT": "9"}

    data = run_json("--config", str(explicit), "config", "path", env=env)

    assert [(f["origin"], f["path"], f["exists"]) for f in data["files"]] == [
        ("user", str(user_file(isolated_env)), False),
        ("project", str(Path.cwd() / ".model-chorus.toml"), False),
        ("explicit", str(explicit), True),
    ]
    expected_db = isolated_env / ".local" / "share" / "model-chorus" / "chorus.db"
    assert data["database"] == {"path": str(expected_db), "exists": False}
    meanings = {v["name"]: v["meaning"] for v in data["environment"]}
    assert meanings == {"MODEL_CHORUS_DEBUG": "option --debug", "MODEL_CHORUS_TIMOUT": None}
    assert data["config_error"] is None


def test_path_still_works_when_the_config_is_invalid() -> None:
    (Path.cwd() / ".model-chorus.toml").write_text("timeout = -5\n", encoding="utf-8")

    result = run("config", "path")

    assert result.exit_code == 0
    assert "Config is invalid" in result.stdout
    assert ".model-chorus.toml" in result.stdout


@pytest.mark.parametrize("command", ["path", "show", "validate"])
def test_json_output_is_one_document(command: str) -> None:
    result = run("config", command, "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["schema_version"] == 1


def test_a_disabled_default_provider_is_reported_by_validate_and_every_command(
    isolated_env: Path,
) -> None:
    Path(".model-chorus.toml").write_text("[providers.claude]\nenabled = false\n", "utf-8")

    validate = CliRunner().invoke(app, ["config", "validate"])
    chat = CliRunner().invoke(app, ["chat", "hi"])

    assert validate.exit_code == 2
    assert chat.exit_code == 2
    assert "default_provider is 'claude'" in chat.stderr


def test_a_list_variable_that_is_not_json_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MODEL_CHORUS_FALLBACK_PROVIDERS", "gemini")

    result = CliRunner().invoke(app, ["config", "validate"])

    assert result.exit_code == 2
    assert "Internal error" not in result.output
    assert '["gemini"]' in result.output
