"""The commented file ``config init`` writes: complete, and true about the defaults."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from model_chorus import config, paths
from model_chorus.config import Settings, read_config_file, template
from model_chorus.config.template import render_config_template

#: A commented-out default: ``# key = value`` or ``# [table]`` (examples are indented more).
DEFAULT_LINE = re.compile(r"^# (\[[\w.-]+\]|[A-Za-z_][\w-]* = .*)$")


def _uncommented(template: str) -> str:
    return "\n".join(
        line[2:] if DEFAULT_LINE.match(line) else line for line in template.splitlines()
    )


def test_every_settings_field_has_a_note_and_appears_in_the_template() -> None:
    text = render_config_template()
    missing_notes = [key for key in template.template_keys() if key not in template.NOTES]
    assert missing_notes == [], "add a note to template.NOTES for each new setting"
    for key in template.template_keys():
        name = re.escape(key.rsplit(".", 1)[-1])
        # a value line `# name = ...`, or for a table its header `# [name]`, `# [name.x]`
        assert re.search(rf"^#\s+(\[{name}[\].]|{name} = )", text, re.M), key


def test_every_unset_default_has_an_example() -> None:
    for key in template.template_keys():
        section, _, name = key.rpartition(".")
        model = {
            "": Settings,
            "providers.*": config.ProviderSettings,
            "workflows.*": config.WorkflowSettings,
        }.get(section) or template._annotation_class(Settings.model_fields[section].annotation)
        assert model is not None
        field = model.model_fields[name]  # type: ignore[attr-defined]
        default = field.get_default(call_default_factory=True)
        if default is None and key != "database":
            assert key in template.EXAMPLES, f"add an example for {key} to template.EXAMPLES"


def test_template_as_written_loads_to_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(render_config_template(), encoding="utf-8")

    assert read_config_file(path) == {}
    loaded = config.load_config(path)
    assert loaded.settings == Settings()


def test_uncommenting_every_default_line_still_loads_to_the_defaults(tmp_path: Path) -> None:
    """The values the template shows as defaults are the real defaults."""
    text = _uncommented(render_config_template())
    data = tomllib.loads(text)
    # It really sets things: every top-level scalar with a default and every section.
    assert {"default_provider", "timeout", "providers", "retry", "breaker"} <= set(data)
    assert set(data["providers"]) == set(config.BUILTIN_PROVIDERS)
    path = tmp_path / "uncommented.toml"
    path.write_text(text, encoding="utf-8")

    assert config.load_config(path).settings == Settings()


def test_examples_are_valid_settings(tmp_path: Path) -> None:
    """Indented example lines, uncommented too, form a valid file."""
    lines = []
    for line in render_config_template().splitlines():
        if DEFAULT_LINE.match(line):
            lines.append(line[2:])
        elif re.match(r"^#   (\[[\w.-]+\]|[A-Za-z_]\w* = .*)$", line):
            lines.append(line[4:])
    path = tmp_path / "examples.toml"
    path.write_text("\n".join(lines), encoding="utf-8")

    settings = config.load_config(path).settings
    assert settings.provider("claude").model == template.EXAMPLES["providers.*.model"]
    assert settings.workflow("consensus").providers == ["claude", "gemini", "codex"]
    assert settings.database_path == paths.default_database_path()


def test_literal_choices_are_listed() -> None:
    template = render_config_template()
    assert "One of: truncate, smart." in template
    assert "One of: text, json." in template
