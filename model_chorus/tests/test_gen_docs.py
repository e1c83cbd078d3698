"""docs/cli.md and docs/workflows.md are what scripts/gen_docs.py makes from the code."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import typer

from model_chorus.cli.app import app
from model_chorus.workflows.registry import all_workflows

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gen_docs.py"
REGENERATE = "run `.venv/bin/python scripts/gen_docs.py` and commit docs/"


@pytest.fixture(scope="module")
def gen_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_docs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_docs"] = module
    spec.loader.exec_module(module)
    return module


def _commands(group: Any, ctx: Any, prefix: str = "model-chorus") -> Iterator[tuple[str, Any]]:
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if cmd is None or cmd.hidden:
            continue
        sub_ctx = typer.Context(cmd, parent=ctx, info_name=name)
        yield f"{prefix} {name}", cmd
        if hasattr(cmd, "list_commands"):
            yield from _commands(cmd, sub_ctx, f"{prefix} {name}")


def test_committed_docs_match_the_code(gen_docs: ModuleType) -> None:
    stale = gen_docs.stale_files()

    if stale:
        pytest.fail(
            f"docs out of date ({', '.join(stale)}): {REGENERATE}\n" + "".join(stale.values())
        )


def test_check_mode_exits_1_on_a_difference_and_0_when_fresh(
    gen_docs: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert gen_docs.main(["--docs-dir", str(tmp_path)]) == 0
    assert gen_docs.main(["--check", "--docs-dir", str(tmp_path)]) == 0

    cli = tmp_path / "cli.md"
    cli.write_text(cli.read_text(encoding="utf-8").replace("--json", "--jsonn", 1), "utf-8")
    (tmp_path / "workflows.md").unlink()
    capsys.readouterr()

    assert gen_docs.main(["--check", "--docs-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "cli.md is out of date" in err
    assert "workflows.md is out of date" in err
    assert "-" in err and "--jsonn" in err  # a diff, not just a verdict
    assert "scripts/gen_docs.py" in err


def test_output_does_not_depend_on_the_terminal(
    gen_docs: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = gen_docs.outputs()
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")

    assert gen_docs.outputs() == first


def test_every_command_and_option_is_documented(gen_docs: ModuleType) -> None:
    cli = gen_docs.render_cli()
    root = typer.main.get_command(app)
    ctx = typer.Context(root, info_name="model-chorus")

    commands = list(_commands(root, ctx))
    assert len(commands) >= 5
    for path, cmd in commands:
        heading = re.search(
            rf"^#+ `{re.escape(path)}`\n\n(?P<body>.*?)(?=^#+ `|\Z)", cli, re.M | re.S
        )
        assert heading, f"{path} has no section in docs/cli.md"
        for param in cmd.params:
            if param.hidden or param.name == "help":
                continue
            name = (
                param.opts[0] if param.param_type_name == "argument" else max(param.opts, key=len)
            )
            assert name in heading.group("body"), f"{path}: {name} is not documented"
    for param in root.params:
        assert max(param.opts, key=len) in cli
    assert "`MODEL_CHORUS_CONFIG`" in cli  # env vars are shown


def test_every_workflow_is_documented(gen_docs: ModuleType) -> None:
    text = gen_docs.render_workflows()

    for info in all_workflows():
        assert f"\n## {info.name}\n\n{info.summary}\n\n{info.description}\n" in text
        if info.example:
            assert info.example in text


def test_help_texts_survive_rich_markup() -> None:
    """``--help`` renders help as Rich markup: ``[cache]`` would vanish; write ``\\[cache]``."""
    from rich.errors import StyleSyntaxError
    from rich.style import Style

    root = typer.main.get_command(app)
    ctx = typer.Context(root, info_name="model-chorus")
    texts = [("model-chorus", root.help or "")]
    for path, cmd in _commands(root, ctx):
        texts.append((path, cmd.help or ""))
        texts += [(f"{path} {p.name}", getattr(p, "help", None) or "") for p in cmd.params]
    lost = []
    for where, text in texts:
        for tag in re.findall(r"(?<!\\)\[([^\[\]/]+)\]", text):
            try:
                Style.parse(tag)
            except StyleSyntaxError:
                lost.append(f"{where}: [{tag}]")
    assert lost == [], "escape these as \\[...] so --help shows them"
