"""The provider registry: specs, lazy classes, construction from settings, probing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from model_chorus.config import BUILTIN_PROVIDERS, Settings
from model_chorus.errors import UnknownProviderError
from model_chorus.providers import registry
from model_chorus.providers.claude import ClaudeProvider
from model_chorus.providers.registry import (
    SPECS,
    create_provider,
    parse_version,
    probe_providers,
    provider_class,
)
from model_chorus.tests.fakes import BIN_DIR, FakeTools


def test_specs_cover_exactly_the_builtin_providers() -> None:
    assert tuple(SPECS) == BUILTIN_PROVIDERS
    for name, spec in SPECS.items():
        assert spec.name == name
        assert spec.install_command and spec.login_hint and spec.required_flags


def test_provider_modules_load_only_when_asked() -> None:
    code = (
        "import sys, model_chorus.providers.registry as r;"
        "print(sorted(m for m in sys.modules if m.startswith('model_chorus.providers.')));"
        "r.provider_class('gemini');"
        "print('model_chorus.providers.gemini' in sys.modules,"
        " 'model_chorus.providers.codex' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    before, after = out.splitlines()
    for module in ("claude", "gemini", "codex", "cursor_agent"):
        assert f"model_chorus.providers.{module}'" not in before
    assert after == "True False"


def test_provider_class_returns_the_class_for_each_name() -> None:
    for name in SPECS:
        assert provider_class(name).spec is SPECS[name]


def test_unknown_provider_lists_the_known_ones() -> None:
    with pytest.raises(UnknownProviderError) as caught:
        create_provider("chatgpt", Settings())
    for name in SPECS:
        assert name in caught.value.message
    assert caught.value.exit_code == 2


def test_the_resolver_reports_an_unknown_name_as_the_registry_does() -> None:
    from model_chorus.providers.middleware import AttemptLog
    from model_chorus.providers.resolver import ProviderResolver

    resolver = ProviderResolver(Settings(), store=None, attempts=AttemptLog(), correlation_id="r")
    with pytest.raises(UnknownProviderError) as from_flag:
        resolver.names(["claude", "chatgpt"])
    with pytest.raises(UnknownProviderError) as from_role:
        resolver.resolve_roles({"skeptic": "chatgpt"})
    with pytest.raises(UnknownProviderError) as from_registry:
        create_provider("chatgpt", Settings())

    reports = {(e.value.message, e.value.hint) for e in (from_flag, from_role, from_registry)}
    assert len(reports) == 1


def test_create_provider_applies_settings() -> None:
    settings = Settings(
        timeout=99,
        providers={
            "claude": {"model": "sonnet", "extra_args": ["--verbose"], "executable": "/opt/claude"},
            "gemini": {"timeout": 12},
        },
    )
    claude = create_provider("claude", settings)
    assert isinstance(claude, ClaudeProvider)
    assert (claude.default_model, claude.timeout) == ("sonnet", 99)
    assert claude.extra_args == ["--verbose"]
    assert claude.executable == "/opt/claude"
    gemini = create_provider("gemini", settings)
    assert (gemini.default_model, gemini.timeout, gemini.executable) == (None, 12, "gemini")
    assert create_provider("gemini", settings, timeout=3).timeout == 3


async def test_probe_reports_installed_fakes_with_versions(fake_tools: FakeTools) -> None:
    settings = Settings(providers={"codex": {"model": "gpt-5.5", "enabled": False}})
    statuses = {s.name: s for s in await probe_providers(settings)}

    assert list(statuses) == list(SPECS)
    assert statuses["claude"].version == "2.1.197"
    assert statuses["gemini"].version == "0.61.0"
    assert statuses["codex"].version == "0.169.0"
    assert all(s.installed and s.error is None for s in statuses.values())
    assert statuses["claude"].path == str(BIN_DIR / "claude")
    assert statuses["codex"].default_model == "gpt-5.5"
    assert statuses["codex"].enabled is False
    assert statuses["gemini"].default_model == SPECS["gemini"].default_model_label
    assert statuses["claude"].to_dict()["install_command"] == SPECS["claude"].install_command
    assert len(fake_tools.calls("claude", kind="version")) == 1


async def test_probe_without_tools_reports_install_commands(no_tools_path: Path) -> None:
    statuses = await probe_providers(Settings(), ["gemini", "cursor-agent"])
    assert [s.name for s in statuses] == ["gemini", "cursor-agent"]
    for status in statuses:
        assert (status.installed, status.path, status.version, status.error) == (
            False,
            None,
            None,
            None,
        )
        assert status.install_command == SPECS[status.name].install_command


async def test_probe_reports_a_tool_whose_version_fails_or_hangs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = tmp_path / "failing-claude"
    failing.write_text("#!/bin/sh\necho 'boom: config unreadable' >&2\nexit 3\n")
    hanging = tmp_path / "hanging-gemini"
    hanging.write_text("#!/bin/sh\nexec sleep 30\n")
    for script in (failing, hanging):
        script.chmod(0o755)
    monkeypatch.setattr(registry, "PROBE_TIMEOUT_S", 0.3)
    settings = Settings(
        providers={"claude": {"executable": str(failing)}, "gemini": {"executable": str(hanging)}}
    )

    claude, gemini = await probe_providers(settings, ["claude", "gemini"])

    assert claude.installed and claude.version is None
    assert claude.error is not None and "code 3" in claude.error and "boom" in claude.error
    assert gemini.installed and gemini.version is None
    assert gemini.error is not None and "did not answer" in gemini.error


async def test_probe_rejects_unknown_names() -> None:
    with pytest.raises(UnknownProviderError):
        await probe_providers(Settings(), ["claude", "nope"])


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("2.1.197 (Claude Code)\n", "2.1.197"),
        ("codex-cli 0.169.0\n", "0.169.0"),
        ("0.61.0\n", "0.61.0"),
        ("2025.11.25-fake0001\n", "2025.11.25-fake0001"),
        ("\nsome tool, no number\n", "some tool, no number"),
        ("", None),
    ],
)
def test_parse_version(text: str, version: str | None) -> None:
    assert parse_version(text) == version
