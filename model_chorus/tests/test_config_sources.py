"""Where each effective setting comes from, and what each MODEL_CHORUS_* variable does."""

from __future__ import annotations

from pathlib import Path

import pytest

from model_chorus.config import config_locations, load_config, read_config_file
from model_chorus.config.sources import describe_environment, effective_with_sources
from model_chorus.errors import ConfigError


def _by_key(loaded, environ=None):
    return {v.key: v for v in effective_with_sources(loaded, environ)}


@pytest.fixture
def layered(isolated_env: Path, tmp_path: Path) -> dict[str, Path]:
    user = isolated_env / ".config" / "model-chorus" / "config.toml"
    user.parent.mkdir(parents=True)
    user.write_text(
        'default_provider = "gemini"\ntimeout = 50\n[providers.codex]\nmodel = "o3"\n',
        encoding="utf-8",
    )
    project = Path.cwd() / ".model-chorus.toml"
    project.write_text("timeout = 60\n[retry]\nmax_attempts = 2\n", encoding="utf-8")
    explicit = tmp_path / "extra.toml"
    explicit.write_text('[providers.codex]\nextra_args = ["-c", "x=1"]\n', encoding="utf-8")
    return {"user": user, "project": project, "explicit": explicit}


def test_each_value_names_the_layer_that_set_it(
    layered: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODEL_CHORUS_RETRY__MAX_ATTEMPTS", "5")
    loaded = load_config(layered["explicit"])

    values = _by_key(loaded)

    assert values["default_provider"].origin == "user"
    assert values["default_provider"].source == str(layered["user"])
    assert (values["timeout"].value, values["timeout"].origin) == (60.0, "project")
    assert values["providers.codex.model"].origin == "user"
    assert values["providers.codex.extra_args"].value == ["-c", "x=1"]
    assert values["providers.codex.extra_args"].origin == "explicit"
    assert values["retry.max_attempts"].value == 5
    assert values["retry.max_attempts"].origin == "env"
    assert values["retry.max_attempts"].source == "MODEL_CHORUS_RETRY__MAX_ATTEMPTS"
    assert values["breaker.enabled"].origin == "default"
    assert values["breaker.enabled"].source is None
    assert values["database"].value is None


def test_a_json_env_value_claims_only_the_keys_it_holds(
    layered: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODEL_CHORUS_PROVIDERS", '{"gemini": {"weight": 2}}')
    values = _by_key(load_config())

    assert (values["providers.gemini.weight"].value, values["providers.gemini.weight"].origin) == (
        2.0,
        "env",
    )
    assert values["providers.codex.model"].origin == "user"
    assert values["providers.gemini.enabled"].origin == "default"


def test_every_leaf_is_listed_once() -> None:
    values = effective_with_sources(load_config(), {})
    keys = [v.key for v in values]

    assert len(keys) == len(set(keys))
    assert "providers.cursor-agent.requests_per_minute" in keys
    assert "logging.format" in keys
    assert "workflows" in keys  # empty table: one row, not none
    assert all(v.origin == "default" for v in values)


def test_describe_environment_explains_each_variable() -> None:
    environ = {
        "MODEL_CHORUS_TIMEOUT": "12",
        "MODEL_CHORUS_PROVIDERS__GEMINI__MODEL": "flash",
        "MODEL_CHORUS_DATA_DIR": "/d",
        "MODEL_CHORUS_DEBUG": "1",
        "MODEL_CHORUS_TIMOUT": "3",
        "HOME": "/h",
    }
    found = {
        v.name: v.meaning
        for v in describe_environment(environ, options={"MODEL_CHORUS_DEBUG": "--debug"})
    }

    assert found == {
        "MODEL_CHORUS_DATA_DIR": "directory of the conversation database",
        "MODEL_CHORUS_DEBUG": "option --debug",
        "MODEL_CHORUS_PROVIDERS__GEMINI__MODEL": "setting providers.gemini.model",
        "MODEL_CHORUS_TIMEOUT": "setting timeout",
        "MODEL_CHORUS_TIMOUT": None,
    }


def test_an_invalid_environment_is_not_blamed_on_a_valid_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = tmp_path / "good.toml"
    good.write_text("timeout = 10\n", encoding="utf-8")
    monkeypatch.setenv("MODEL_CHORUS_TIMEOUT", "-1")

    assert read_config_file(good) == {"timeout": 10}
    with pytest.raises(ConfigError, match="MODEL_CHORUS_TIMEOUT"):
        load_config(good)


def test_config_locations_always_show_a_project_entry(tmp_path: Path) -> None:
    origins = [(cf.origin, cf.path) for cf in config_locations(tmp_path / "x.toml")]

    assert [o for o, _ in origins] == ["user", "project", "explicit"]
    assert origins[1][1] == Path.cwd() / ".model-chorus.toml"


def test_config_locations_find_the_project_file_up_the_tree() -> None:
    (Path.cwd() / ".model-chorus.toml").write_text("", encoding="utf-8")
    deeper = Path.cwd() / "a" / "b"
    deeper.mkdir(parents=True)

    project = config_locations(cwd=deeper)[1]

    assert project.origin == "project"
    assert project.path == (Path.cwd() / ".model-chorus.toml").resolve()
