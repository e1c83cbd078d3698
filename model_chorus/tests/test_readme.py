"""Every ``model-chorus`` command in README.md's ``console`` blocks runs as the README says.

Rules for README authors:

* In a fenced block whose language is ``console``, a line ``$ model-chorus ...``
  is a command; a line ending with ``\\`` continues on the next one.
* A trailing ``# exit N`` states the expected exit code (default 0).
* A pipeline with model-chorus in it (``... | jq``, ``git diff | model-chorus
  chat``) runs through ``bash -o pipefail -c`` (any failing stage fails it); other commands run as
  ``python -m model_chorus ARGS``.
* Other ``$`` lines (installing, cloning, running the tests) are not run, and
  must start with one of ``SETUP_PROGRAMS``: anything else fails the test, so
  that nothing is skipped silently.

All commands of one README run in order against the fake tools, with stdin
empty, in ONE temporary home and working directory (holding the small
project of ``PROJECT_FILES`` for ``-f`` examples), so an example can build on
an earlier one (``--continue last``).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from model_chorus.tests.fakes import BIN_DIR

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
#: First words of ``$`` lines that are set-up steps, not examples to run.
SETUP_PROGRAMS = (
    "pip",
    "pipx",
    "uv",
    "git",
    "cd",
    "python",
    "python3",
    "source",
    "export",
    "curl",
    "npm",
    "brew",
    "make",
    ".venv/bin/",
)
COMMAND_TIMEOUT_S = 60
#: The small project the README's examples attach with -f (paths relative to the
#: working directory the examples run in).
PROJECT_FILES = {
    "src/auth.py": (
        "import time\n\n\ndef check_token(token):\n"
        "    # expiry is compared with this node's clock\n"
        "    return token.expires_at > time.time()\n"
    ),
    "src/session.py": "SESSION_TTL_S = 3600\n",
}
_EXIT = re.compile(r"\s+#\s*exit\s+(\d+)\s*$")
_SHELL_OPERATORS = {"|", "||", "&&", ";", ">", ">>", "<", "&", "(", ")", "2>", "2>&1"}


@dataclass(frozen=True)
class Example:
    line: int
    #: The command without ``$ `` and without the ``# exit N`` comment.
    command: str
    expected_exit: int
    #: Needs a shell (pipes, redirections, variable assignments).
    shell: bool

    def argv(self) -> list[str]:
        """Arguments after ``model-chorus`` for a direct run."""
        return shlex.split(self.command, comments=True)[1:]


@dataclass(frozen=True)
class Parsed:
    examples: list[Example]
    #: ``$`` lines that are not model-chorus commands: (line number, text).
    other: list[tuple[int, str]]


def parse_readme(markdown: str) -> Parsed:
    examples: list[Example] = []
    other: list[tuple[int, str]] = []
    fence: str | None = None
    language = ""
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(markdown.splitlines(), start=1):
        stripped = raw.strip()
        if fence is None:
            if match := re.match(r"^(```+|~~~+)\s*([\w-]*)", stripped):
                fence, language = match.group(1), match.group(2).lower()
            continue
        if stripped.startswith(fence) and stripped.strip("`~") == "":
            fence = None
            continue
        if language != "console":
            continue
        if pending is not None:
            start, text = pending
            text = f"{text} {stripped}"
        elif stripped.startswith("$ "):
            start, text = number, stripped[2:].strip()
        else:
            continue  # output shown in the README
        if text.endswith("\\"):
            pending = (start, text[:-1].rstrip())
            continue
        pending = None
        example = _classify(start, text)
        if example is None:
            other.append((start, text))
        else:
            examples.append(example)
    return Parsed(examples, other)


def _classify(line: int, text: str) -> Example | None:
    expected = 0
    if match := _EXIT.search(text):
        expected = int(match.group(1))
        text = text[: match.start()].rstrip()
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    tokens = list(lexer)
    stages: list[list[str]] = [[]]  # words of each pipeline stage
    for token in tokens:
        if token in ("|", "|&"):
            stages.append([])
        else:
            stages[-1].append(token)
    firsts = [next((w for w in stage if not _is_assignment(w)), "") for stage in stages]
    if firsts[0] != "model-chorus" and "model-chorus" not in firsts[1:]:
        return None
    shell = any(t in _SHELL_OPERATORS for t in tokens) or _is_assignment(tokens[0])
    return Example(line, text, expected, shell)


def _is_assignment(word: str) -> bool:
    return re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", word) is not None


# --- running -------------------------------------------------------------------------


def _environment(root: Path) -> dict[str, str]:
    home = root / "home"
    shim = root / "bin"
    for folder in (home, shim):
        folder.mkdir(parents=True, exist_ok=True)
    launcher = shim / "model-chorus"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m model_chorus "$@"\n', "utf-8")
    launcher.chmod(0o755)
    return {
        "PATH": os.pathsep.join([str(shim), str(BIN_DIR), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "NO_COLOR": "1",
        "COLUMNS": "100",
        "TERM": "dumb",
        "LANG": "C.UTF-8",
        "FAKE_PYTHON": sys.executable,
    }


def run_examples(examples: list[Example], root: Path, *, source: str) -> list[str]:
    """Run each example in order; return a message for each one that did not exit as stated."""
    env = _environment(root)
    work = root / "work"
    work.mkdir(exist_ok=True)
    for name, text in PROJECT_FILES.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text, encoding="utf-8")
    failures = []
    for example in examples:
        argv = (
            ["bash", "-o", "pipefail", "-c", example.command]
            if example.shell
            else [sys.executable, "-m", "model_chorus", *example.argv()]
        )
        try:
            done = subprocess.run(
                argv,
                cwd=work,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            failures.append(f"{source}:{example.line}: `{example.command}` ran over the timeout")
            continue
        if done.returncode != example.expected_exit:
            failures.append(
                f"{source}:{example.line}: `{example.command}` exited {done.returncode}, "
                f"the README says {example.expected_exit}\n"
                f"  stdout: {done.stdout[-1500:]!r}\n  stderr: {done.stderr[-1500:]!r}"
            )
    return failures


# --- the README itself ---------------------------------------------------------------


def test_readme_examples_exit_as_documented(tmp_path: Path) -> None:
    parsed = parse_readme(README.read_text(encoding="utf-8"))
    if not parsed.examples:
        pytest.skip("README.md has no `console` block with a model-chorus command yet")

    failures = run_examples(parsed.examples, tmp_path, source="README.md")

    assert not failures, "\n".join(failures)


def test_readme_lines_not_run_are_set_up_steps() -> None:
    parsed = parse_readme(README.read_text(encoding="utf-8"))

    unknown = [
        f"README.md:{line}: `{text}`"
        for line, text in parsed.other
        if not text.startswith(SETUP_PROGRAMS)
    ]
    assert not unknown, (
        "these `$` lines are neither model-chorus commands nor known set-up steps; make them "
        "runnable or add their program to SETUP_PROGRAMS in test_readme.py:\n" + "\n".join(unknown)
    )


# --- the parser and runner, on samples -----------------------------------------------

SAMPLE = """\
# Tool

```console
$ model-chorus version
model-chorus 0.1.0 (Python 3.11, linux)
$ model-chorus config validate missing.toml   # exit 2
Error: Config file missing.toml does not exist.
$ model-chorus chat "hello there" \\
    -p gemini --json | jq -r .content
$ git diff | model-chorus chat "Review this"
$ MODEL_CHORUS_TIMEOUT=5 model-chorus chat 'a # not a comment'
$ pipx install model-chorus && model-chorus doctor
```

```bash
$ model-chorus never-run
```

~~~console
$ model-chorus list-workflows
~~~
"""


def test_parser_finds_commands_exit_codes_and_continuations() -> None:
    parsed = parse_readme(SAMPLE)

    assert [(e.line, e.command, e.expected_exit, e.shell) for e in parsed.examples] == [
        (4, "model-chorus version", 0, False),
        (6, "model-chorus config validate missing.toml", 2, False),
        (8, 'model-chorus chat "hello there" -p gemini --json | jq -r .content', 0, True),
        (10, 'git diff | model-chorus chat "Review this"', 0, True),
        (11, "MODEL_CHORUS_TIMEOUT=5 model-chorus chat 'a # not a comment'", 0, True),
        (20, "model-chorus list-workflows", 0, False),
    ]
    assert parsed.examples[1].argv() == ["config", "validate", "missing.toml"]
    assert parse_readme("```console\n$ model-chorus version  # shows it\n```").examples[
        0
    ].argv() == ["version"]
    assert parsed.other == [(12, "pipx install model-chorus && model-chorus doctor")]


def test_parser_handles_a_readme_without_examples() -> None:
    assert parse_readme("# Title\n\nNo blocks here.\n") == Parsed([], [])


def test_runner_runs_examples_in_one_home_and_reports_mismatches(tmp_path: Path) -> None:
    sample = """\
```console
$ model-chorus config init
$ model-chorus config init  # exit 2
$ model-chorus config show --json | jq -e '.files | length == 1'
$ model-chorus doctor -p claude
$ echo "ignored" | model-chorus version
$ model-chorus version  # exit 3
```
"""
    examples = parse_readme(sample).examples

    failures = run_examples(examples, tmp_path, source="sample")

    # The second init failed as stated because the first wrote into the same home;
    # doctor passed because the fake claude was first on PATH.
    assert len(failures) == 1, "\n".join(failures)
    assert failures[0].startswith("sample:7: `model-chorus version` exited 0, the README says 3")
    assert (tmp_path / "home" / ".config" / "model-chorus" / "config.toml").is_file()
