"""Fake ``claude``, ``gemini``, ``codex`` and ``cursor-agent`` for tests (standard library only).

Run as ``fake_tool.py TOOL ARGS...``; the wrappers in ``bin/`` do that, so a
test that puts ``bin/`` first on PATH (the ``fake_tools`` fixture) talks to
these fakes instead of the real tools. Each fake parses its command line the
way the real tool does and prints the output shapes recorded from the real
tools (``recorded/``, from ``../shared/provider-formats``): same stream, same
JSON layout (compact, pretty or JSON lines), same exit code.

Protocol
========

Command line: every option the real tool's --help lists is accepted and listed
in the fake's own --help layout (a test holds the tables to the recorded help in
``recorded/<tool>/argv/``); what follows is what the fakes act on. A mistake in
the command line gets the real parser's message, exit code and precedence over
--help (the other ``argv/`` cases):

* ``claude -p [--output-format text|json|stream-json] [--verbose] [--model M]
  [--system-prompt S] [--append-system-prompt S] [--disallowed-tools T...] ...``
  Prompt: stdin, or ``ARG\\nSTDIN`` when both are given. stream-json without
  ``--verbose`` exits 1 with the real message. Unknown option: commander's
  ``error: unknown option '--x'`` and its ``(Did you mean --y?)`` line, exit 1.
* ``gemini [--skip-trust] [-o text|json|stream-json] [-m M] [-p P] [QUERY]``
  Prompt: stdin, then the ``-p``/positional text. Without ``--skip-trust`` and
  without ``GEMINI_CLI_TRUST_WORKSPACE=true`` it exits 55 (untrusted folder).
  A single-value option given twice becomes a list, as in yargs; a doubled
  ``-o`` therefore falls back to text output. Unknown option: ``Unknown
  argument: x`` and then the help, exit 1.
* ``codex exec [--json] [-s MODE] [-m M] [-c k=v]... [--skip-git-repo-check]
  [--disable F]... [-i FILE...] [--] [PROMPT|-]`` Prompt: stdin for ``-`` or no
  prompt, else the argument plus stdin. Outside a git repository without
  ``--skip-git-repo-check`` it exits 1. A repeated non-repeatable option or an
  unknown one (``--full-auto`` too, gone in 0.169) is a clap error, exit 2. In
  ``connection`` mode without ``--disable unbounded_connection_retries`` it
  reconnects forever (hangs), like the real tool.
* ``cursor-agent -p [--output-format text|json|stream-json] [--model M]
  [-f] [-- PROMPT]`` Prompt: the argument, else stdin. Its output shape is
  not recorded (the tool is not on npm); it follows the README description.

Every tool answers ``--version`` and ``--help``. Environment variables, with
TOOL one of CLAUDE, GEMINI, CODEX, CURSOR_AGENT:

* ``FAKE_TOOL_REPLY``: the answer text. Default:
  ``FAKE-TOOL len=<chars> sha=<sha256 hex[:12]> head=<first 40 chars>`` of the
  prompt the tool received, so a test can check a prompt arrived intact.
* ``FAKE_TOOL_LATENCY``: seconds to wait before answering.
* ``FAKE_TOOL_MODE``: ``ok`` (default) | ``rate_limit`` (429) | ``auth`` (401)
  | ``no_login`` (not logged in / key missing) | ``overloaded`` (claude 529,
  gemini and codex 503) | ``server_error`` (claude 503, gemini and codex 500)
  | ``connection`` (connection refused) | ``bad_request`` (400) | ``budget``
  (claude only: max budget exceeded) | ``crash`` (exit 1, no output at all)
  | ``hang`` (spawns a child that ignores SIGTERM, then both sleep forever)
  | ``garbage`` (non-JSON stdout, exit 0) | ``huge`` (a success answer of
  ``FAKE_TOOL_HUGE_MB`` MB, default 20).
* ``FAKE_TOOL_SCRIPT``: path to a JSON list of steps ``{"mode", "reply",
  "latency"}`` (each key optional, falling back to the variables above).
  Call N uses step N; the last step repeats. The call counter lives in
  ``FAKE_STATE_DIR`` (default: next to the script), locked for parallel calls.
* ``FAKE_TOOL_VERSION``: the version ``--version`` prints.
* ``FAKE_TOOL_HELP_DROP``: comma-separated flags left out of ``--help`` (to
  simulate a tool that dropped a flag).
* ``FAKE_LOG_DIR``: every call appends one JSON line to ``<dir>/<tool>.jsonl``:
  ``tool, argv, stdin, prompt, cwd, env`` (CLAUDE_*, GEMINI_*, CODEX_*,
  CURSOR_*, TERM, NO_COLOR), ``pid``, ``child_pid`` (hang mode), ``step``,
  ``mode``, ``kind`` (``call``, ``version``, ``help`` or ``rejected``) and, for
  calls, ``started_at`` (``time.time()`` when the call began, before its latency)
  and ``effective``: what the real tool would run with once its flags are merged
  with the settings files it reads — claude ``tools`` and ``mcp_servers``
  (``--mcp-config``; unless ``--strict-mcp-config``, also ``~/.claude.json`` and
  ``./.mcp.json``), gemini ``approval_mode`` (``--yolo``, ``--approval-mode``,
  else ``general.defaultApprovalMode`` of ``./.gemini/settings.json`` or
  ``~/.gemini/settings.json``).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import signal
import sys
import time
import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the fakes start on every call: keep their imports minimal
    from typing import Any

TOOLS = ("claude", "gemini", "codex", "cursor-agent")
VERSIONS = {
    "claude": "2.1.197 (Claude Code)",
    "gemini": "0.61.0",
    "codex": "codex-cli 0.169.0",
    # Made up: cursor-agent is not published on npm and was not recorded.
    "cursor-agent": "2025.11.25-fake0001",
}
MODES = (
    "ok",
    "rate_limit",
    "auth",
    "no_login",
    "overloaded",
    "server_error",
    "connection",
    "bad_request",
    "budget",
    "crash",
    "hang",
    "garbage",
    "huge",
)
LOGGED_ENV_PREFIXES = ("CLAUDE_", "GEMINI_", "CODEX_", "CURSOR_")
LOGGED_ENV_NAMES = ("TERM", "NO_COLOR")
GARBAGE = "<html><body>Something went wrong, this is not JSON</body></html>\n"


# --- results --------------------------------------------------------------------------


class Output:
    def __init__(self, stdout: str = "", stderr: str = "", code: int = 0) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.code = code


class Exit(Exception):
    """Stop with this output (argument errors, rule violations)."""

    def __init__(self, stderr: str, code: int, stdout: str = "") -> None:
        super().__init__(stderr)
        self.output = Output(stdout, stderr, code)


def env_key(tool: str) -> str:
    return tool.upper().replace("-", "_")


def compact(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def pretty(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False)


def new_uuid() -> str:
    return str(uuid.uuid4())


def short_hex() -> str:
    return uuid.uuid4().hex[:12]


# --- command-line parsing -------------------------------------------------------------


class Flag:
    def __init__(
        self,
        names: tuple[str, ...],
        arity: str = "value",
        help: str = "",
        choices: tuple[str, ...] = (),
        repeatable: bool = False,
        metavar: str = "value",
        aliases: tuple[str, ...] = (),
        hidden: bool = False,
    ) -> None:
        self.names = names
        #: "switch" (no value), "value", "optional" (value if one follows), "variadic".
        self.arity = arity
        self.help = help
        self.choices = choices
        #: clap only: may be given more than once.
        self.repeatable = repeatable
        self.metavar = metavar
        #: Accepted, but never shown in help or messages (clap's hidden aliases).
        self.aliases = aliases
        #: Accepted, but left out of --help and of commander's suggestions.
        self.hidden = hidden
        longs = [n for n in names if n.startswith("--")]
        # The last long name, as commander reads ``--allowedTools, --allowed-tools``.
        self.key = (longs[-1] if longs else names[0]).lstrip("-")

    @property
    def usage(self) -> str:
        """The flags as declared, as commander quotes them in its errors."""
        if self.arity == "switch":
            return ", ".join(self.names)
        value = f"[{self.metavar}]" if self.arity == "optional" else f"<{self.metavar}>"
        return f"{', '.join(self.names)} {value}"


class Parsed:
    def __init__(self) -> None:
        self.opts: dict[str, list[Any]] = {}
        self.positionals: list[str] = []

    def has(self, key: str) -> bool:
        return key in self.opts

    def last(self, key: str, default: Any = None) -> Any:
        values = self.opts.get(key)
        return values[-1] if values else default

    def all(self, key: str) -> list[Any]:
        return list(self.opts.get(key, []))


# Each table lists the options the real tool's --help lists (recorded/<tool>/help.stdout,
# codex: exec_help.stdout), in its order, plus the hidden ones it accepts.
CLAUDE_USAGE = "claude [options] [command] [prompt]"
CLAUDE_FLAGS = (
    Flag(("--add-dir",), "variadic", metavar="directories..."),
    Flag(("--agent",), metavar="agent"),
    Flag(("--agents",), metavar="json"),
    Flag(("--allow-dangerously-skip-permissions",), "switch"),
    Flag(
        ("--allowedTools", "--allowed-tools"),
        "variadic",
        "Tools to allow without asking (does not shrink the tool set)",
        metavar="tools...",
    ),
    Flag(("--append-system-prompt",), help="Append a system prompt", metavar="prompt"),
    Flag(("--ax-screen-reader",), "switch"),
    Flag(("--bg", "--background"), "switch"),
    Flag(("--bare",), "switch"),
    Flag(("--betas",), "variadic", metavar="betas..."),
    Flag(("--brief",), "switch"),
    Flag(("--chrome",), "switch"),
    Flag(("-c", "--continue"), "switch", "Continue the most recent conversation"),
    Flag(("--dangerously-skip-permissions",), "switch", "Bypass all permission checks"),
    Flag(("-d", "--debug"), "optional", metavar="filter"),
    Flag(("--debug-file",), metavar="path"),
    Flag(("--disable-slash-commands",), "switch"),
    Flag(
        ("--disallowedTools", "--disallowed-tools"),
        "variadic",
        "Tools to deny (removed from the model's tool set)",
        metavar="tools...",
    ),
    Flag(("--effort",), metavar="level"),
    Flag(("--exclude-dynamic-system-prompt-sections",), "switch"),
    Flag(("--fallback-model",), metavar="model"),
    Flag(("--file",), "variadic", metavar="specs..."),
    Flag(("--fork-session",), "switch"),
    Flag(("--from-pr",), "optional", metavar="value"),
    Flag(("-h", "--help"), "switch", "Display help for command"),
    Flag(("--ide",), "switch"),
    Flag(("--include-hook-events",), "switch"),
    Flag(("--include-partial-messages",), "switch"),
    Flag(("--input-format",), choices=("text", "stream-json"), metavar="format"),
    Flag(("--json-schema",), metavar="schema"),
    Flag(("--max-budget-usd",), help="Maximum dollar amount to spend", metavar="amount"),
    Flag(("--max-turns",), metavar="turns", hidden=True),
    Flag(("--mcp-config",), "variadic", metavar="configs..."),
    Flag(("--model",), help="Model for the current session (alias or full name)", metavar="model"),
    Flag(("-n", "--name"), metavar="name"),
    Flag(("--no-chrome",), "switch"),
    Flag(("--no-session-persistence",), "switch"),
    Flag(
        ("--output-format",),
        help="Output format (only works with --print)",
        choices=("text", "json", "stream-json"),
        metavar="format",
    ),
    Flag(
        ("--permission-mode",),
        choices=("acceptEdits", "auto", "bypassPermissions", "default", "dontAsk", "plan"),
        metavar="mode",
    ),
    Flag(("--plugin-dir",), metavar="path"),
    Flag(("--plugin-url",), metavar="url"),
    Flag(("-p", "--print"), "switch", "Print response and exit (useful for pipes)"),
    Flag(
        ("--prompt-suggestions",),
        "optional",
        choices=("true", "false", "1", "0", "yes", "no", "on", "off"),
        metavar="value",
    ),
    Flag(("--remote-control",), "optional", metavar="name"),
    Flag(("--remote-control-session-name-prefix",), metavar="prefix"),
    Flag(("--replay-user-messages",), "switch"),
    Flag(("-r", "--resume"), "optional", "Resume a conversation", metavar="value"),
    Flag(("--safe-mode",), "switch"),
    Flag(("--session-id",), metavar="uuid"),
    Flag(("--setting-sources",), metavar="sources"),
    Flag(("--settings",), metavar="file-or-json"),
    Flag(("--strict-mcp-config",), "switch"),
    Flag(("--system-prompt",), help="System prompt to use for the session", metavar="prompt"),
    Flag(("--tmux",), "switch"),
    Flag(("--tools",), "variadic", "Built-in tools available to the model", metavar="tools..."),
    Flag(("--verbose",), "switch", "Override verbose mode setting from config"),
    Flag(("-v", "--version"), "switch", "Output the version number"),
    Flag(("-w", "--worktree"), "optional", metavar="name"),
)

GEMINI_USAGE = "gemini [options] [command]"
GEMINI_FLAGS = (
    Flag(("-d", "--debug"), "switch", "Run in debug mode"),
    Flag(("-m", "--model"), help="Model", metavar="string"),
    Flag(("-p", "--prompt"), help="Run in non-interactive (headless) mode", metavar="string"),
    Flag(("-i", "--prompt-interactive"), metavar="string"),
    Flag(("--skip-trust",), "switch", "Trust the current workspace for this session"),
    Flag(("-w", "--worktree"), metavar="string"),
    Flag(("-s", "--sandbox"), "switch", "Run in sandbox?"),
    Flag(("-y", "--yolo"), "switch", "Automatically accept all actions"),
    Flag(
        ("--approval-mode",),
        help="Set the approval mode",
        choices=("default", "auto_edit", "yolo", "plan"),
        metavar="string",
    ),
    Flag(("--policy",), "variadic", metavar="array"),
    Flag(("--admin-policy",), "variadic", metavar="array"),
    Flag(("--acp",), "switch"),
    Flag(("--experimental-acp",), "switch"),
    Flag(("--allowed-mcp-server-names",), "variadic", metavar="array"),
    Flag(("--allowed-tools",), "variadic", "Tools allowed to run without confirmation"),
    Flag(("-e", "--extensions"), "variadic", metavar="array"),
    Flag(("-l", "--list-extensions"), "switch"),
    Flag(("-r", "--resume"), metavar="string"),
    Flag(("--session-file",), metavar="string"),
    Flag(("--session-id",), metavar="string"),
    Flag(("--list-sessions",), "switch"),
    Flag(("--delete-session",), metavar="string"),
    Flag(("--include-directories",), "variadic", metavar="array"),
    Flag(("--screen-reader",), "switch"),
    Flag(
        ("-o", "--output-format"),
        help="The format of the CLI output",
        choices=("text", "json", "stream-json"),
        metavar="string",
    ),
    Flag(("--raw-output",), "switch"),
    Flag(("--accept-raw-output-risk",), "switch"),
    Flag(("-v", "--version"), "switch", "Show version number"),
    Flag(("-h", "--help"), "switch", "Show help"),
)

CODEX_USAGE = "codex [OPTIONS] [PROMPT]\n       codex [OPTIONS] <COMMAND> [ARGS]"
CODEX_EXEC_USAGE = "codex exec [OPTIONS] [PROMPT]\n       codex exec [OPTIONS] <COMMAND> [ARGS]"
CODEX_EXEC_FLAGS = (
    Flag(
        ("-c", "--config"),
        help="Override a configuration value",
        repeatable=True,
        metavar="key=value",
    ),
    Flag(("--enable",), help="Enable a feature", repeatable=True, metavar="FEATURE"),
    Flag(("--disable",), help="Disable a feature", repeatable=True, metavar="FEATURE"),
    Flag(("--strict-config",), "switch"),
    # ``<FILE>...``: takes every following value, a trailing ``-`` too.
    Flag(("-i", "--image"), "variadic", repeatable=True, metavar="FILE"),
    Flag(("-m", "--model"), help="Model the agent should use", metavar="MODEL"),
    Flag(("--oss",), "switch"),
    Flag(("--local-provider",), metavar="OSS_PROVIDER"),
    Flag(("-p", "--profile"), metavar="CONFIG_PROFILE_V2"),
    Flag(
        ("-s", "--sandbox"),
        help="Select the sandbox policy",
        choices=("read-only", "workspace-write", "danger-full-access"),
        metavar="SANDBOX_MODE",
    ),
    Flag(("--approve-for-me",), "switch"),
    Flag(("--dangerously-bypass-approvals-and-sandbox",), "switch", aliases=("--yolo",)),
    Flag(("--dangerously-bypass-hook-trust",), "switch"),
    Flag(("-C", "--cd"), metavar="DIR"),
    Flag(("--worktree",), "switch"),
    Flag(("--add-dir",), repeatable=True, metavar="DIR"),
    Flag(("--thread-source",), metavar="SOURCE"),
    Flag(
        ("--cyber-access-program",),
        choices=("standard", "daybreak_blue", "daybreak_red"),
        metavar="PROGRAM",
    ),
    Flag(("--skip-git-repo-check",), "switch", "Allow running outside a Git repository"),
    Flag(("--trust",), "switch"),
    Flag(("--ephemeral",), "switch"),
    Flag(("--ignore-user-config",), "switch"),
    Flag(("--ignore-rules",), "switch"),
    Flag(("--output-schema",), metavar="FILE"),
    Flag(("--color",), choices=("always", "never", "auto"), metavar="COLOR"),
    Flag(
        ("--json",), "switch", "Print events to stdout as JSONL", aliases=("--experimental-json",)
    ),
    Flag(("-o", "--output-last-message"), metavar="FILE"),
    Flag(("-h", "--help"), "switch", "Print help"),
    Flag(("-V", "--version"), "switch", "Print version"),
)
CODEX_TOP_FLAGS = CODEX_EXEC_FLAGS[-2:]

CURSOR_USAGE = "cursor-agent [options] [prompt...]"
CURSOR_FLAGS = (
    Flag(("-p", "--print"), "switch", "Print responses to console (non-interactive)"),
    Flag(
        ("--output-format",),
        help="Output format (only works with --print)",
        choices=("text", "json", "stream-json"),
        metavar="format",
    ),
    Flag(("--stream-partial-output",), "switch"),
    Flag(("--model",), help="Model to use", metavar="model"),
    Flag(("-f", "--force"), "switch", "Force allow commands unless explicitly denied"),
    Flag(("-a", "--api-key"), metavar="key"),
    Flag(("--resume",), "optional", metavar="chatId"),
    Flag(("-v", "--version"), "switch", "Output the version number"),
    Flag(("-h", "--help"), "switch", "Display help for command"),
)


def commander_error(message: str) -> Exit:
    return Exit(f"error: {message}\n", 1)


def yargs_error(message: str, help: str) -> Exit:
    """yargs prints the complaint, then the whole help."""
    return Exit(f"{message}\n{help}", 1)


def clap_error(message: str, tip: str = "", usage: str = CODEX_EXEC_USAGE) -> Exit:
    text = f"error: {message}\n\n"
    if tip:
        text += f"  tip: {tip}\n\n"
    text += f"Usage: {usage}\n\nFor more information, try '--help'.\n"
    return Exit(text, 2)


def parse_args(
    tool: str, flags: tuple[Flag, ...], args: list[str], style: str, usage: str
) -> Parsed:
    """Parse like commander (claude, cursor-agent), yargs (gemini) or clap (codex).

    Each parser gives up at its own moment, and that decides what a mistake next
    to --help prints: clap stops at the first bad argument and acts on --help or
    --version where they stand; commander stops at a bad value but looks for
    --version or --help before reporting an unknown option; yargs checks unknown
    options and choices last, so --help and --version win over any mistake.
    """
    by_name = {name: flag for flag in flags for name in (*flag.names, *flag.aliases)}
    parsed = Parsed()
    unknown: list[str] = []
    bad_choices: list[Exit] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            parsed.positionals.extend(args[i:])
            break
        if not _is_option(arg):
            parsed.positionals.append(arg)
            continue
        name, inline = arg, None
        if arg.startswith("--") and "=" in arg:
            name, inline = arg.split("=", 1)
        flag = by_name.get(name)
        if flag is not None and flag.arity == "switch" and inline is not None:
            if style == "clap":
                raise clap_error(
                    f"unexpected value '{inline}' for '{_clap_label(flag)}' found; "
                    "no more were expected",
                    usage=usage,
                )
            if style == "commander":
                flag = None  # commander knows `--print`, not `--print=1`
        if flag is None:
            if style == "clap":
                raise clap_error(f"unexpected argument '{arg}' found", _clap_tip(arg, flags), usage)
            if style == "commander":
                later = {f.key for f in map(by_name.get, args[i:]) if f is not None}
                for key in ("version", "help"):
                    if parsed.has(key) or key in later:
                        parsed.opts[key] = [True]
                        return parsed
                raise commander_error(f"unknown option '{arg}'" + _commander_suggestion(arg, flags))
            unknown.append(name.lstrip("-"))
            if inline is None and i < len(args) and not _is_option(args[i]):
                i += 1  # yargs gives an unknown option the next argument as its value
            continue
        values: list[Any]
        if flag.arity == "switch":
            values = [True]
        elif inline is not None:
            values = [inline]
        elif flag.arity == "optional":
            if i < len(args) and not _is_option(args[i]):
                values = [args[i]]
                i += 1
            else:
                values = [True]
        elif i < len(args) and (style == "commander" or not _is_option(args[i])):
            # commander's required value is the next argument, whatever it looks like.
            values = [args[i]]
            i += 1
            if flag.arity == "variadic":
                while i < len(args) and not _is_option(args[i]):
                    values.append(args[i])
                    i += 1
        elif style == "yargs":
            values = [""]  # yargs leaves a string option without a value empty
        else:
            raise _missing(style, flag, usage)
        bad = [v for v in values if isinstance(v, str) and flag.choices and v not in flag.choices]
        if bad:
            error = _bad_choice(style, flag, bad[0], help_text(tool, flags, usage))
            if style != "yargs":
                raise error
            bad_choices.append(error)
        if style == "clap" and parsed.has(flag.key) and not flag.repeatable:
            raise clap_error(
                f"the argument '{_clap_label(flag)}' cannot be used multiple times", usage=usage
            )
        if flag.arity == "variadic":
            parsed.opts.setdefault(flag.key, []).append(values)
        else:
            parsed.opts.setdefault(flag.key, []).extend(values)
        acts_at_once = ("help", "version") if style == "clap" else ("version",)
        if style != "yargs" and flag.key in acts_at_once:
            return parsed
    if parsed.has("help") or parsed.has("version"):
        return parsed
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        raise yargs_error(
            f"Unknown argument{plural}: {', '.join(unknown)}", help_text(tool, flags, usage)
        )
    if bad_choices:
        raise bad_choices[0]
    return parsed


def _is_option(arg: str) -> bool:
    return arg.startswith("-") and arg != "-"


def _clap_label(flag: Flag) -> str:
    long = "--" + flag.key
    return long if flag.arity == "switch" else f"{long} <{flag.metavar}>"


def _missing(style: str, flag: Flag, usage: str) -> Exit:
    if style == "commander":
        return commander_error(f"option '{flag.usage}' argument missing")
    text = f"error: a value is required for '{_clap_label(flag)}' but none was supplied\n"
    if flag.choices:
        text += f"  [possible values: {', '.join(flag.choices)}]\n"
    return Exit(text + "\nFor more information, try '--help'.\n", 2)


def _bad_choice(style: str, flag: Flag, value: str, help: str) -> Exit:
    if style == "commander":
        return commander_error(
            f"option '{flag.usage}' argument '{value}' is invalid. "
            f"Allowed choices are {', '.join(flag.choices)}."
        )
    if style == "yargs":
        choices = ", ".join(f'"{c}"' for c in flag.choices)
        return yargs_error(
            f'Invalid values:\n  Argument: {flag.key}, Given: "{value}", Choices: {choices}', help
        )
    possible = ", ".join(flag.choices)
    text = (
        f"error: invalid value '{value}' for '{_clap_label(flag)}'\n"
        f"  [possible values: {possible}]\n\nFor more information, try '--help'.\n"
    )
    return Exit(text, 2)


def _commander_suggestion(arg: str, flags: tuple[Flag, ...]) -> str:
    """Commander's "(Did you mean --x?)": visible long options within a small edit distance."""
    if not arg.startswith("--"):
        return ""
    word = arg[2:]
    best, similar = 3, []
    for flag in flags:
        candidate = flag.key
        if flag.hidden or len(candidate) <= 1:
            continue
        distance = _edit_distance(word, candidate)
        length = max(len(word), len(candidate))
        if (length - distance) / length <= 0.4:
            continue
        if distance < best:
            best, similar = distance, [candidate]
        elif distance == best:
            similar.append(candidate)
    names = sorted(f"--{c}" for c in similar)
    if len(names) > 1:
        return f"\n(Did you mean one of {', '.join(names)}?)"
    return f"\n(Did you mean {names[0]}?)" if names else ""


def _edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (optimal string alignment), as commander computes it."""
    if abs(len(a) - len(b)) > 3:
        return max(len(a), len(b))
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def _clap_tip(arg: str, flags: tuple[Flag, ...]) -> str:
    """clap's tip: the most similar long name (Jaro above 0.7), else how to pass a value."""
    if arg.startswith("--"):
        longs = [n[2:] for f in flags for n in (*f.names, *f.aliases) if n.startswith("--")]
        scored = sorted(((_jaro(arg[2:], c), c) for c in longs), key=lambda s: s[0])
        close = [c for score, c in scored if score > 0.7]
        if close:
            return f"a similar argument exists: '--{close[-1]}'"
    return f"to pass '{arg}' as a value, use '-- {arg}'"


def _jaro(a: str, b: str) -> float:
    """Jaro similarity, as the strsim crate behind clap computes it."""
    if not a or not b:
        return 1.0 if a == b else 0.0
    window = max(max(len(a), len(b)) // 2 - 1, 0)
    a_hit, b_hit = [False] * len(a), [False] * len(b)
    for i, ch in enumerate(a):
        for j in range(max(0, i - window), min(len(b), i + window + 1)):
            if not b_hit[j] and b[j] == ch:
                a_hit[i] = b_hit[j] = True
                break
    matches = sum(a_hit)
    if not matches:
        return 0.0
    a_seq = [c for c, hit in zip(a, a_hit, strict=True) if hit]
    b_seq = [c for c, hit in zip(b, b_hit, strict=True) if hit]
    half_transpositions = sum(x != y for x, y in zip(a_seq, b_seq, strict=True)) // 2
    return (matches / len(a) + matches / len(b) + (matches - half_transpositions) / matches) / 3


def help_text(tool: str, flags: tuple[Flag, ...], usage: str) -> str:
    drop = {f.strip() for f in os.environ.get(f"FAKE_{env_key(tool)}_HELP_DROP", "").split(",")}
    lines = [f"Usage: {usage}", "", "Options:"]
    for flag in flags:
        if flag.hidden or drop & set(flag.names):
            continue
        text = flag.help
        if flag.choices:
            text += f" (choices: {', '.join(flag.choices)})"
        lines.append(f"  {flag.usage:<44} {text}".rstrip())
    return "\n".join(lines) + "\n"


# --- behaviour ------------------------------------------------------------------------


class Behaviour:
    def __init__(self, mode: str, reply: str | None, latency: float, step: int | None) -> None:
        self.mode = mode
        self.reply = reply
        self.latency = latency
        self.step = step


def read_behaviour(tool: str) -> Behaviour:
    key = env_key(tool)
    mode = os.environ.get(f"FAKE_{key}_MODE") or "ok"
    reply = os.environ.get(f"FAKE_{key}_REPLY")
    latency = float(os.environ.get(f"FAKE_{key}_LATENCY") or 0)
    step_index: int | None = None
    script = os.environ.get(f"FAKE_{key}_SCRIPT")
    if script:
        with open(script, encoding="utf-8") as fh:
            steps = json.load(fh)
        step_index = next_call_index(tool, script)
        step = steps[min(step_index, len(steps) - 1)] if steps else {}
        mode = step.get("mode", mode)
        reply = step.get("reply", reply)
        latency = float(step.get("latency", latency))
    if mode not in MODES:
        raise Exit(
            f"fake {tool}: unknown FAKE_{key}_MODE {mode!r}; one of {', '.join(MODES)}\n", 99
        )
    return Behaviour(mode, reply, latency, step_index)


def next_call_index(tool: str, script: str) -> int:
    """Count calls across processes: parallel calls each get their own step."""
    state_dir = os.environ.get("FAKE_STATE_DIR") or os.path.dirname(os.path.abspath(script))
    os.makedirs(state_dir, exist_ok=True)
    path = os.path.join(state_dir, f"{tool}.count")
    with open(path, "a+", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        text = fh.read().strip()
        index = int(text) if text else 0
        fh.seek(0)
        fh.truncate()
        fh.write(str(index + 1))
        fh.flush()
        fcntl.flock(fh, fcntl.LOCK_UN)
    return index


def default_reply(tool: str, prompt: str) -> str:
    digest = hashlib.sha256(prompt.encode("utf-8", errors="surrogatepass")).hexdigest()[:12]
    return f"FAKE-{env_key(tool)} len={len(prompt)} sha={digest} head={prompt[:40]}"


def reply_text(tool: str, behaviour: Behaviour, prompt: str) -> str:
    if behaviour.mode == "huge":
        size = int(float(os.environ.get(f"FAKE_{env_key(tool)}_HUGE_MB") or 20) * 1024 * 1024)
        return ("All work and no play makes a huge answer. " * (size // 42 + 1))[:size]
    if behaviour.reply is not None:
        return behaviour.reply
    return default_reply(tool, prompt)


def read_stdin() -> str:
    if sys.stdin is None or sys.stdin.isatty():
        return ""
    return sys.stdin.buffer.read().decode("utf-8", errors="replace")


def log_call(tool: str, entry: dict[str, Any]) -> None:
    log_dir = os.environ.get("FAKE_LOG_DIR")
    if not log_dir:
        return
    os.makedirs(log_dir, exist_ok=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if k.startswith(LOGGED_ENV_PREFIXES) or k in LOGGED_ENV_NAMES
    }
    record = {"tool": tool, "cwd": os.getcwd(), "pid": os.getpid(), "env": env, **entry}
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with open(os.path.join(log_dir, f"{tool}.jsonl"), "a", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.write(line)
        fh.flush()
        fcntl.flock(fh, fcntl.LOCK_UN)


def spawn_sleeping_child() -> int:
    """A helper that ignores SIGTERM, as a stuck node worker might: only SIGKILL ends it."""
    import subprocess

    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        child = subprocess.Popen(["sleep", "3600"])  # inherits the ignored SIGTERM
    finally:
        signal.signal(signal.SIGTERM, previous)
    return child.pid


def sleep_forever() -> None:
    while True:
        time.sleep(3600)


# --- claude ---------------------------------------------------------------------------

CLAUDE_DEFAULT_MODEL = "claude-opus-4-8[1m]"
CLAUDE_ALIASES = {
    "opus": "claude-opus-4-8[1m]",
    "sonnet": "claude-sonnet-5",
    "haiku": "claude-haiku-4-5",
}
CLAUDE_TOOLS = (
    "Task",
    "Bash",
    "CronCreate",
    "CronDelete",
    "CronList",
    "Edit",
    "EnterWorktree",
    "ExitWorktree",
    "NotebookEdit",
    "Read",
    "ReportFindings",
    "ScheduleWakeup",
    "SendMessage",
    "Skill",
    "TaskCreate",
    "TaskGet",
    "TaskList",
    "TaskOutput",
    "TaskStop",
    "TaskUpdate",
    "WebFetch",
    "WebSearch",
    "Workflow",
    "Write",
)
CLAUDE_GATEWAY = "127.0.0.1:18001"
CLAUDE_FAILURES: dict[str, tuple[int | None, str]] = {
    "rate_limit": (
        429,
        "API Error: Request rejected (429) · This request would exceed the rate limit for your "
        "organization. Please try again later.",
    ),
    "auth": (401, "Invalid API key · Fix external API key"),
    "no_login": (None, "Not logged in · Please run /login"),
    "overloaded": (
        529,
        "API Error: 529 Overloaded. This is a server-side issue, usually temporary — try again "
        f"in a moment. If it persists, check your inference gateway ({CLAUDE_GATEWAY}).",
    ),
    "server_error": (
        503,
        "API Error: 503 Service unavailable. This is a server-side issue, usually temporary — "
        f"try again in a moment. If it persists, check your inference gateway ({CLAUDE_GATEWAY}).",
    ),
    "connection": (None, "API Error: Unable to connect to API (ConnectionRefused)"),
    "bad_request": (
        400,
        'API Error: 400 {"type":"error","error":{"type":"invalid_request_error","message":'
        '"model: unknown model name"}}',
    ),
}
CLAUDE_REPEATED_529 = (
    "API Error: Repeated 529 Overloaded errors. The API is at capacity — this is usually "
    f"temporary. Try again in a moment. If it persists, check your inference gateway "
    f"({CLAUDE_GATEWAY})."
)


def claude_usage(input_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": output_tokens,
        "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
        "service_tier": "standard",
        "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0},
        "inference_geo": "",
        "iterations": [],
        "speed": "standard",
    }


def claude_model_usage(
    model: str, input_tokens: int, output_tokens: int, cost: float
) -> dict[str, Any]:
    return {
        model: {
            "inputTokens": input_tokens,
            "outputTokens": output_tokens,
            "cacheReadInputTokens": 0,
            "cacheCreationInputTokens": 0,
            "webSearchRequests": 0,
            "costUSD": cost,
            "contextWindow": 1000000 if "[1m]" in model else 200000,
            "maxOutputTokens": 64000,
        }
    }


def claude_success(reply: str, model: str, prompt: str, session: str) -> dict[str, Any]:
    input_tokens = 1600 + len(prompt) // 4
    output_tokens = max(1, len(reply) // 4)
    cost = round(input_tokens * 5e-6 + output_tokens * 25e-6, 6)
    return {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "api_error_status": None,
        "duration_ms": 301,
        "duration_api_ms": 53,
        "ttft_ms": 277,
        "ttft_stream_ms": 273,
        "time_to_request_ms": 252,
        "num_turns": 1,
        "result": reply,
        "stop_reason": "end_turn",
        "session_id": session,
        "total_cost_usd": cost,
        "usage": claude_usage(input_tokens, output_tokens),
        "modelUsage": claude_model_usage(model, input_tokens, output_tokens, cost),
        "permission_denials": [],
        "terminal_reason": "completed",
        "fast_mode_state": "off",
        "uuid": new_uuid(),
    }


def claude_api_error(status: int | None, message: str, session: str) -> dict[str, Any]:
    return {
        "type": "result",
        "subtype": "success",
        "is_error": True,
        "api_error_status": status,
        "duration_ms": 392,
        "duration_api_ms": 0,
        "num_turns": 1,
        "result": message,
        "stop_reason": "stop_sequence",
        "session_id": session,
        "total_cost_usd": 0,
        "usage": claude_usage(0, 0),
        "modelUsage": {},
        "permission_denials": [],
        "terminal_reason": "completed",
        "fast_mode_state": "off",
        "uuid": new_uuid(),
    }


def claude_budget_error(model: str, budget: str, session: str) -> dict[str, Any]:
    return {
        "type": "result",
        "subtype": "error_max_budget_usd",
        "duration_ms": 276,
        "duration_api_ms": 0,
        "is_error": True,
        "num_turns": 1,
        "stop_reason": "end_turn",
        "session_id": session,
        "total_cost_usd": 0.09749000000000001,
        "usage": claude_usage(0, 0),
        "modelUsage": claude_model_usage(model, 19383, 23, 0.09749000000000001),
        "permission_denials": [],
        "fast_mode_state": "off",
        "uuid": new_uuid(),
        "errors": [f"Reached maximum budget (${budget})"],
    }


def claude_tools(parsed: Parsed) -> list[str]:
    tools = list(CLAUDE_TOOLS)
    if parsed.has("tools"):
        chosen = [t for group in parsed.all("tools") for v in group for t in _split_tools(v)]
        tools = [t for t in tools if t in chosen]
    denied = {t for group in parsed.all("disallowed-tools") for v in group for t in _split_tools(v)}
    return [t for t in tools if t not in denied]


def _split_tools(value: str) -> list[str]:
    return [t for t in value.replace(",", " ").split() if t]


def read_json_file(path: str) -> dict[str, Any]:
    """A settings file as the tools read it: missing or broken counts as empty."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def claude_mcp_servers(parsed: Parsed) -> list[str]:
    """MCP servers the real tool would start: --mcp-config ones, and unless
    --strict-mcp-config, those of ~/.claude.json and the project's .mcp.json."""
    configs = [read_json_file(v) for group in parsed.all("mcp-config") for v in group]
    if not parsed.has("strict-mcp-config"):
        home = os.path.expanduser("~")
        configs += [
            read_json_file(os.path.join(home, ".claude.json")),
            read_json_file(os.path.join(os.getcwd(), ".mcp.json")),
        ]
    names: list[str] = []
    for config in configs:
        servers = config.get("mcpServers")
        if isinstance(servers, dict):
            names += [n for n in servers if n not in names]
    return names


def claude_main(args: list[str], ctx: Context) -> Output:
    parsed = parse_args("claude", CLAUDE_FLAGS, args, "commander", CLAUDE_USAGE)
    if parsed.has("version"):
        return ctx.version()
    if parsed.has("help"):
        return ctx.help(help_text("claude", CLAUDE_FLAGS, CLAUDE_USAGE))
    if len(parsed.positionals) > 1:
        raise commander_error(
            f"too many arguments. Expected 1 argument but got {len(parsed.positionals)}."
        )
    if not parsed.has("print"):
        raise Exit("fake claude: only -p/--print (non-interactive) mode is supported\n", 1)
    fmt = parsed.last("output-format", "text")
    if fmt == "stream-json" and not parsed.has("verbose"):
        raise Exit("Error: When using --print, --output-format=stream-json requires --verbose\n", 1)
    stdin = read_stdin()
    arg = parsed.positionals[0] if parsed.positionals else None
    prompt = f"{arg}\n{stdin}" if arg is not None and stdin else (arg if arg is not None else stdin)
    if not prompt.strip():
        raise Exit(
            "Error: Input must be provided either through stdin or as a prompt argument when "
            "using --print\n",
            1,
        )
    effective = {"tools": claude_tools(parsed), "mcp_servers": claude_mcp_servers(parsed)}
    behaviour = ctx.start(stdin=stdin, prompt=prompt, effective=effective)
    requested = parsed.last("model")
    model = CLAUDE_ALIASES.get(requested, requested) if requested else CLAUDE_DEFAULT_MODEL
    session = new_uuid()
    mode = behaviour.mode
    if mode in ("ok", "huge"):
        obj = claude_success(reply_text("claude", behaviour, prompt), model, prompt, session)
    elif mode == "budget":
        obj = claude_budget_error(model, parsed.last("max-budget-usd", "0.01"), session)
    else:
        status, message = CLAUDE_FAILURES[mode]
        if mode == "overloaded" and os.environ.get("CLAUDE_CODE_MAX_RETRIES") != "0":
            # With its own retries on, the tool gives up with this summary instead.
            status, message = None, CLAUDE_REPEATED_529
        obj = claude_api_error(status, message, session)
    code = 1 if obj["is_error"] else 0
    if fmt == "text":
        text = obj.get("result") or "; ".join(obj.get("errors", []))
        return Output(text + "\n", "", code)
    if fmt == "json":
        return Output(compact(obj) + "\n", "", code)
    init = {
        "type": "system",
        "subtype": "init",
        "cwd": os.getcwd(),
        "session_id": session,
        "tools": effective["tools"],
        "mcp_servers": [{"name": n, "status": "connected"} for n in effective["mcp_servers"]],
        "model": model,
        "permissionMode": parsed.last("permission-mode", "default"),
        "slash_commands": ["review", "security-review", "init", "compact"],
        "apiKeySource": "ANTHROPIC_API_KEY",
        "claude_code_version": VERSIONS["claude"].split()[0],
        "output_style": "default",
        "agents": ["Explore", "general-purpose", "Plan"],
        "skills": ["review"],
        "plugins": [],
        "analytics_disabled": True,
        "product_feedback_disabled": True,
        "uuid": new_uuid(),
        "memory_paths": {"auto": "$HOME/.claude/projects/fake/memory/"},
        "fast_mode_state": "off",
    }
    lines = [init]
    if not obj["is_error"]:
        lines.append(
            {
                "type": "assistant",
                "message": {
                    "id": f"msg_fake_{uuid.uuid4().hex[:20]}",
                    "type": "message",
                    "role": "assistant",
                    "model": model.split("[")[0],
                    "content": [{"type": "text", "text": obj["result"]}],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": obj["usage"]["input_tokens"],
                        "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": 0,
                        "output_tokens": 1,
                        "service_tier": "standard",
                    },
                    "context_management": None,
                },
                "parent_tool_use_id": None,
                "session_id": session,
                "uuid": new_uuid(),
                "request_id": f"req_fake_{short_hex()}",
            }
        )
    lines.append(obj)
    return Output("".join(compact(line) + "\n" for line in lines), "", code)


# --- gemini ---------------------------------------------------------------------------

GEMINI_NOISE = (
    "Warning: Basic terminal detected (TERM=dumb). Visual rendering will be limited. For the "
    "best experience, use a terminal emulator with truecolor support.\n"
    "Warning: 256-color support not detected. Using a terminal with at least 256-color support "
    "is recommended for a better visual experience.\n"
    "Ripgrep is not available. Falling back to GrepTool.\n"
)
GEMINI_UNTRUSTED = (
    "\x1b[31mGemini CLI is not running in a trusted directory. To proceed, either use "
    "`--skip-trust`, set the `GEMINI_CLI_TRUST_WORKSPACE=true` environment variable, or trust "
    "this directory in interactive mode. For more details, see "
    "https://geminicli.com/docs/cli/trusted-folders/#headless-and-automated-environments"
    "\x1b[0m\n"
)
GEMINI_STACK = (
    "    at throwErrorIfNotOK (file://<npm-install>\n"
    "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)\n"
    "    at async Models.generateContentStream (file://<npm-install>\n"
    "    at async retryWithBackoff (file://<npm-install>\n"
    "    at async GeminiChat.makeApiCallAndProcessStream (file://<npm-install>\n"
    "    at async GeminiChat.streamWithRetries (file://<npm-install>\n"
    "    at async Turn.run (file://<npm-install>"
)
GEMINI_REPORT = (
    "Error when talking to Gemini API Full report available at: "
    "$HOME$TMPDIR/gemini-client-error-Turn.run-sendMessageStream.json "
)


def _api_error_json(code: int, message: str, status: str) -> str:
    return compact({"error": {"code": code, "message": message, "status": status}})


def gemini_failure(mode: str) -> tuple[int, str, str, bool]:
    """(code, message, trace, noisy): what the tool prints for a failed model call."""
    if mode == "no_login":
        message = (
            "When using Gemini API, you must specify the GEMINI_API_KEY environment variable.\n"
            "Update your environment and try again (no reload needed if using .env)!"
        )
        return 41, message, "", False
    if mode == "rate_limit":
        message = "Resource has been exhausted (e.g. check quota).\nSuggested retry after 1s."
        trace = (
            f"Attempt 1 failed: {message}. Max attempts reached\n"
            f"{GEMINI_REPORT}RetryableQuotaError: {message}\n{GEMINI_STACK} {{\n"
            "  cause: {\n    code: 429,\n"
            "    message: 'Resource has been exhausted (e.g. check quota).',\n"
            "    details: [ [Object] ]\n  },\n  retryDelayMs: 1000,\n  status: 429\n}\n"
        )
        return 429, message, trace, True
    if mode == "overloaded":
        message = "The model is overloaded. Please try again later."
        trace = (
            f"Attempt 1 failed: {message}. Max attempts reached\n"
            f"{GEMINI_REPORT}RetryableQuotaError: {message}\n{GEMINI_STACK} {{\n"
            f"  cause: {{\n    code: 503,\n    message: '{message}',\n    details: []\n  }},\n"
            "  retryDelayMs: undefined,\n  status: 503\n}\n"
        )
        return 503, message, trace, True
    if mode == "connection":
        message = "exception TypeError: fetch failed sending request"
        trace = f"{GEMINI_REPORT}Error: {message}\n{GEMINI_STACK}\n"
        return 1, message, trace, True
    statuses = {
        "auth": (401, "API key not valid. Please pass a valid API key.", "UNAUTHENTICATED"),
        "server_error": (500, "An internal error has occurred.", "INTERNAL"),
        "bad_request": (400, "Request contains an invalid argument.", "INVALID_ARGUMENT"),
    }
    code, text, status = statuses[mode]
    message = _api_error_json(code, text, status)
    prefix = "" if mode == "auth" else f"Attempt 1 failed: {message}. Max attempts reached\n"
    trace = (
        f"{prefix}{GEMINI_REPORT}_ApiError: {message}\n{GEMINI_STACK} {{\n  status: {code}\n}}\n"
    )
    return code, message, trace, True


def gemini_tokens(input_tokens: int, output_tokens: int) -> dict[str, int]:
    return {
        "input": input_tokens,
        "prompt": input_tokens,
        "candidates": output_tokens,
        "total": input_tokens + output_tokens,
        "cached": 0,
        "thoughts": 0,
        "tool": 0,
    }


def gemini_model_entry(
    role: str, input_tokens: int, output_tokens: int, latency: int
) -> dict[str, Any]:
    tokens = gemini_tokens(input_tokens, output_tokens)
    return {
        "api": {
            "totalRequests": 1,
            "totalErrors": 0,
            "totalLatencyMs": latency,
            "errorsByType": {},
        },
        "tokens": tokens,
        "roles": {
            role: {
                "totalRequests": 1,
                "totalErrors": 0,
                "totalLatencyMs": latency,
                "tokens": dict(tokens),
            }
        },
    }


def gemini_success(reply: str, model: str | None, prompt: str, session: str) -> dict[str, Any]:
    input_tokens = 7800 + len(prompt) // 4
    output_tokens = max(1, len(reply) // 4)
    models: dict[str, Any] = {}
    if model is None:
        models["gemini-3.5-flash-lite"] = gemini_model_entry("utility_router", 767, 24, 50)
        models["gemini-3.8-flash"] = gemini_model_entry("main", input_tokens, output_tokens, 70)
    else:
        models[model] = gemini_model_entry("main", input_tokens, output_tokens, 85)
    return {
        "session_id": session,
        "response": reply,
        "stats": {
            "models": models,
            "tools": {
                "totalCalls": 0,
                "totalSuccess": 0,
                "totalFail": 0,
                "totalDurationMs": 0,
                "totalDecisions": {"accept": 0, "reject": 0, "modify": 0, "auto_accept": 0},
                "byName": {},
            },
            "files": {"totalLinesAdded": 0, "totalLinesRemoved": 0},
        },
    }


def gemini_approval_mode(parsed: Parsed) -> str:
    """--yolo, else --approval-mode, else general.defaultApprovalMode from the project's
    .gemini/settings.json (read because the folder is trusted) over ~/.gemini's."""
    if parsed.has("yolo"):
        return "yolo"
    if parsed.has("approval-mode"):
        return str(parsed.last("approval-mode"))
    for folder in (os.getcwd(), os.path.expanduser("~")):
        general = read_json_file(os.path.join(folder, ".gemini", "settings.json")).get("general")
        if isinstance(general, dict) and general.get("defaultApprovalMode"):
            return str(general["defaultApprovalMode"])
    return "default"


def gemini_main(args: list[str], ctx: Context) -> Output:
    parsed = parse_args("gemini", GEMINI_FLAGS, args, "yargs", GEMINI_USAGE)
    if parsed.has("version"):
        return ctx.version()
    if parsed.has("help"):
        return ctx.help(help_text("gemini", GEMINI_FLAGS, GEMINI_USAGE))
    if not parsed.has("skip-trust") and os.environ.get("GEMINI_CLI_TRUST_WORKSPACE") != "true":
        raise Exit(GEMINI_UNTRUSTED, 55)
    formats = parsed.all("output-format")
    # yargs turns a repeated option into a list, which is no known format: text output.
    fmt = formats[0] if len(formats) == 1 else "text"
    stdin = read_stdin()
    text_parts = [p for p in (parsed.last("prompt"), " ".join(parsed.positionals)) if p]
    prompt = "\n\n".join([p for p in (stdin, *text_parts) if p])
    if not prompt.strip():
        raise Exit(
            "No input provided via stdin. Input can be provided by piping data into gemini or "
            "using the --prompt option.\n",
            1,
        )
    behaviour = ctx.start(
        stdin=stdin, prompt=prompt, effective={"approval_mode": gemini_approval_mode(parsed)}
    )
    model = parsed.last("model")
    session = new_uuid()
    mode = behaviour.mode
    if mode == "budget":
        mode = "bad_request"
    if mode in ("ok", "huge"):
        reply = reply_text("gemini", behaviour, prompt)
        if fmt == "json":
            return Output(pretty(gemini_success(reply, model, prompt, session)), GEMINI_NOISE, 0)
        if fmt == "text":
            return Output(reply + "\n", GEMINI_NOISE, 0)
        return Output(gemini_stream(session, model, prompt, reply, None), GEMINI_NOISE, 0)
    code, message, trace, noisy = gemini_failure(mode)
    stderr = (GEMINI_NOISE if noisy else "") + trace
    if fmt == "text":
        return Output("", stderr + "An unexpected critical error occurred:[object Object]\n", 1)
    exit_code = code % 256 if code >= 100 else code
    if fmt == "stream-json":
        return Output(gemini_stream(session, model, prompt, None, message), stderr, exit_code)
    error = {"session_id": session, "error": {"type": "Error", "message": message, "code": code}}
    return Output("", stderr + pretty(error) + "\n", exit_code)


def gemini_stream(
    session: str, model: str | None, prompt: str, reply: str | None, error: str | None
) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    name = model or "gemini-3.8-flash"
    events: list[dict[str, Any]] = [
        {"type": "init", "timestamp": stamp, "session_id": session, "model": model or "auto"},
        {"type": "message", "timestamp": stamp, "role": "user", "content": prompt},
    ]
    in_tokens = 0 if reply is None else 7800 + len(prompt) // 4
    out_tokens = 0 if reply is None else max(1, len(reply) // 4)
    if reply is not None:
        half = len(reply) // 2
        for part in (reply[:half], reply[half:]):
            events.append(
                {
                    "type": "message",
                    "timestamp": stamp,
                    "role": "assistant",
                    "content": part,
                    "delta": True,
                }
            )
    counts = {
        "total_tokens": in_tokens + out_tokens,
        "input_tokens": in_tokens,
        "output_tokens": out_tokens,
        "cached": 0,
        "input": in_tokens,
    }
    stats = {**counts, "duration_ms": 131, "tool_calls": 0, "models": {name: dict(counts)}}
    result: dict[str, Any] = {"type": "result", "timestamp": stamp}
    if error is None:
        result.update(status="success", stats=stats)
    else:
        result.update(
            status="error",
            error={"type": "unknown", "message": f"[API Error: {error}]"},
            stats=stats,
        )
    events.append(result)
    return "".join(compact(e) + "\n" for e in events)


# --- codex ----------------------------------------------------------------------------

CODEX_URL = "url: http://127.0.0.1:18003/v1/responses"
CODEX_BANNER = (
    "OpenAI Codex v0.169.0\n--------\nworkdir: {cwd}\nmodel: {model}\nprovider: openai\n"
    "approval: never\nsandbox: {sandbox}\nreasoning effort: none\nreasoning summaries: none\n"
    "session id: {session}\n--------\nuser\n{prompt}\n"
)


def codex_failure(mode: str) -> tuple[list[str], str]:
    """(retry warnings, final message) for a failed turn."""

    def rid() -> str:
        return f"request id: req_fake_{short_hex()}"

    if mode == "auth":
        text = (
            "unexpected status 401 Unauthorized: Incorrect API key provided: sk-test***. You can "
            f"find your API key at https://platform.openai.com/account/api-keys., {CODEX_URL}"
        )
        return [f"{text}, {rid()}" for _ in range(5)], f"{text}, {rid()}"
    if mode == "rate_limit":
        text = "exceeded retry limit, last status: 429 Too Many Requests"
        return [f"{text}, {rid()}" for _ in range(5)], f"{text}, {rid()}"
    if mode == "server_error":
        text = "We’re currently experiencing high demand, which may cause temporary errors."
        return [text] * 5, text
    if mode == "overloaded":
        text = (
            "unexpected status 503 Service Unavailable: The server is overloaded or not ready "
            f"yet., {CODEX_URL}, {rid()}"
        )
        return [], text
    if mode == "bad_request":
        text = (
            'unexpected status 400 Bad Request: {"error":{"message":"The requested model does '
            'not exist.","type":"invalid_request_error"}}'
            f", {CODEX_URL}, {rid()}"
        )
        return [], text
    if mode == "no_login":
        return [], "Missing environment variable: `OPENAI_API_KEY`."
    return [], "Connection failed: error sending request"


def codex_main(args: list[str], ctx: Context) -> Output:
    if not args or args[0] != "exec":
        parsed = parse_args("codex", CODEX_TOP_FLAGS, args, "clap", CODEX_USAGE)
        if parsed.has("version"):
            return ctx.version()
        if parsed.has("help"):
            return ctx.help(help_text("codex", CODEX_TOP_FLAGS, CODEX_USAGE))
        raise Exit("fake codex: only `codex exec` is supported\n", 2)
    parsed = parse_args("codex", CODEX_EXEC_FLAGS, args[1:], "clap", CODEX_EXEC_USAGE)
    if parsed.has("version"):
        return ctx.version()
    if parsed.has("help"):
        return ctx.help(help_text("codex", CODEX_EXEC_FLAGS, CODEX_EXEC_USAGE))
    if len(parsed.positionals) > 1:
        raise clap_error(f"unexpected argument '{parsed.positionals[1]}' found")
    for override in parsed.all("config"):
        if "=" not in override:
            raise Exit(f"Error: Invalid override (missing '='): {override}\n", 1)
    arg = parsed.positionals[0] if parsed.positionals else None
    notice = ""
    if arg == "-":
        stdin = read_stdin()
        prompt = stdin
    elif arg is None:
        notice = "Reading prompt from stdin...\n"
        stdin = read_stdin()
        prompt = stdin
    else:
        notice = "Reading additional input from stdin...\n"
        stdin = read_stdin()
        prompt = f"{arg}\n\n<stdin>\n{stdin}</stdin>" if stdin else arg
    if not parsed.has("skip-git-repo-check") and not in_git_repo(parsed.last("cd")):
        raise Exit(
            notice
            + "Not inside a trusted directory and --skip-git-repo-check was not specified.\n",
            1,
        )
    if not prompt.strip():
        raise Exit(notice + "No prompt provided via stdin.\n", 1)
    behaviour = ctx.start(stdin=stdin, prompt=prompt)
    thread = new_uuid()
    mode = behaviour.mode
    if mode == "budget":
        mode = "bad_request"
    as_json = parsed.has("json")
    if mode in ("ok", "huge"):
        reply = reply_text("codex", behaviour, prompt)
        if path := parsed.last("output-last-message"):
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(reply)
        if not as_json:
            banner = CODEX_BANNER.format(
                cwd=os.getcwd(),
                model=parsed.last("model", "gpt-6.1-sol"),
                sandbox=parsed.last("sandbox", "read-only"),
                session=thread,
                prompt=prompt,
            )
            return Output(reply + "\n", notice + banner + f"codex\n{reply}\ntokens used\n13,611\n")
        events: list[dict[str, Any]] = [
            {"type": "thread.started", "thread_id": thread},
            {"type": "turn.started"},
            {
                "type": "item.completed",
                "item": {"id": "item_0", "type": "agent_message", "text": reply},
            },
            {
                "type": "turn.completed",
                "usage": {
                    "input_tokens": 9000 + len(prompt) // 4,
                    "cached_input_tokens": 0,
                    "cache_write_input_tokens": 0,
                    "output_tokens": max(1, len(reply) // 4),
                    "reasoning_output_tokens": 0,
                },
            },
        ]
        return Output("".join(compact(e) + "\n" for e in events), notice, 0)
    unbounded = "unbounded_connection_retries" not in parsed.all("disable")
    retries, final = codex_failure(mode)
    if mode == "connection" and unbounded:
        # The real tool reconnects to a dead endpoint forever.
        if as_json:
            start = [{"type": "thread.started", "thread_id": thread}, {"type": "turn.started"}]
            sys.stdout.write("".join(compact(e) + "\n" for e in start))
            sys.stdout.flush()
        sys.stderr.write(notice)
        sys.stderr.flush()
        attempt = 0
        while True:
            attempt += 1
            if as_json:
                message = f"Reconnecting... {attempt}/∞ ({final})"
                sys.stdout.write(compact({"type": "error", "message": message}) + "\n")
                sys.stdout.flush()
            time.sleep(1)
    if not as_json:
        banner = CODEX_BANNER.format(
            cwd=os.getcwd(),
            model=parsed.last("model", "gpt-6.1-sol"),
            sandbox=parsed.last("sandbox", "read-only"),
            session=thread,
            prompt=prompt,
        )
        return Output("", notice + banner + f"ERROR: {final}\nERROR: {final}\n", 1)
    events = [{"type": "thread.started", "thread_id": thread}, {"type": "turn.started"}]
    for n, text in enumerate(retries, start=1):
        events.append({"type": "error", "message": f"Reconnecting... {n}/{len(retries)} ({text})"})
    events.append({"type": "error", "message": final})
    events.append({"type": "turn.failed", "error": {"message": final}})
    return Output("".join(compact(e) + "\n" for e in events), notice, 1)


def in_git_repo(cd: str | None) -> bool:
    here = os.path.abspath(cd or os.getcwd())
    while True:
        if os.path.exists(os.path.join(here, ".git")):
            return True
        parent = os.path.dirname(here)
        if parent == here:
            return False
        here = parent


# --- cursor-agent ---------------------------------------------------------------------

CURSOR_FAILURES = {
    "rate_limit": "Rate limit exceeded (429): You've hit your usage limit. Please try again later.",
    "overloaded": "Service unavailable (503): The model is overloaded. Please try again later.",
    "server_error": "Internal server error (500). Please try again.",
    "connection": "ConnectError: [unavailable] connect ECONNREFUSED 127.0.0.1:443",
    "bad_request": "Invalid request (400): model is not available for your plan",
    "budget": "Invalid request (400): usage budget exceeded",
}
CURSOR_AUTH = (
    "Error: Authentication required. Please run 'cursor-agent login' first, or set "
    "CURSOR_API_KEY environment variable.\n"
)


def cursor_main(args: list[str], ctx: Context) -> Output:
    parsed = parse_args("cursor-agent", CURSOR_FLAGS, args, "commander", CURSOR_USAGE)
    if parsed.has("version"):
        return ctx.version()
    if parsed.has("help"):
        return ctx.help(help_text("cursor-agent", CURSOR_FLAGS, CURSOR_USAGE))
    if not parsed.has("print"):
        raise Exit("fake cursor-agent: only -p/--print (non-interactive) mode is supported\n", 1)
    stdin = "" if parsed.positionals else read_stdin()
    prompt = " ".join(parsed.positionals) if parsed.positionals else stdin
    if not prompt.strip():
        raise Exit("Error: No prompt provided for print mode\n", 1)
    behaviour = ctx.start(stdin=stdin, prompt=prompt)
    fmt = parsed.last("output-format", "text")
    mode = behaviour.mode
    if mode in ("auth", "no_login"):
        return Output("", CURSOR_AUTH, 1)
    session = new_uuid()
    obj: dict[str, Any] = {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "duration_ms": 2310,
        "duration_api_ms": 2310,
        "result": "",
        "session_id": session,
        "request_id": new_uuid(),
    }
    if mode in ("ok", "huge"):
        reply = reply_text("cursor-agent", behaviour, prompt)
        obj["result"] = reply
        obj["usage"] = {
            "input_tokens": 3000 + len(prompt) // 4,
            "output_tokens": max(1, len(reply) // 4),
            "cached_input_tokens": 0,
        }
    else:
        obj.update(subtype="error", is_error=True, result=CURSOR_FAILURES[mode])
    code = 1 if obj["is_error"] else 0
    if fmt == "text":
        return Output(obj["result"] + "\n", "", code)
    return Output(compact(obj) + "\n", "", code)


# --- main -----------------------------------------------------------------------------


class Context:
    """What every tool handler shares: logging and the behaviour for this call."""

    def __init__(self, tool: str, argv: list[str]) -> None:
        self.tool = tool
        self.argv = argv
        self.behaviour: Behaviour | None = None

    def version(self) -> Output:
        log_call(self.tool, {"argv": self.argv, "kind": "version", "stdin": None})
        version = os.environ.get(f"FAKE_{env_key(self.tool)}_VERSION") or VERSIONS[self.tool]
        return Output(version + "\n")

    def help(self, text: str) -> Output:
        log_call(self.tool, {"argv": self.argv, "kind": "help", "stdin": None})
        return Output(text)

    def start(
        self, *, stdin: str, prompt: str, effective: dict[str, Any] | None = None
    ) -> Behaviour:
        """The call reached the model: pick the behaviour, log it, apply latency and hang.

        ``effective`` is what the real tool would run with after merging its flags
        with the user's and the project's settings files (tools, approval mode ...).
        """
        behaviour = read_behaviour(self.tool)
        self.behaviour = behaviour
        child_pid = spawn_sleeping_child() if behaviour.mode == "hang" else None
        log_call(
            self.tool,
            {
                "argv": self.argv,
                "kind": "call",
                "stdin": stdin,
                "prompt": prompt,
                "step": behaviour.step,
                "mode": behaviour.mode,
                "child_pid": child_pid,
                # Wall-clock start, so a test can tell whether calls overlapped.
                "started_at": time.time(),
                "effective": effective or {},
            },
        )
        if behaviour.latency > 0:
            time.sleep(behaviour.latency)
        if behaviour.mode == "hang":
            sleep_forever()
        if behaviour.mode == "crash":
            raise Exit("", 1)
        if behaviour.mode == "garbage":
            raise Exit("", 0, stdout=GARBAGE)
        return behaviour


HANDLERS = {
    "claude": claude_main,
    "gemini": gemini_main,
    "codex": codex_main,
    "cursor-agent": cursor_main,
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in HANDLERS:
        sys.stderr.write(f"usage: fake_tool.py {{{','.join(TOOLS)}}} ARGS...\n")
        return 99
    tool, args = argv[0], argv[1:]
    ctx = Context(tool, args)
    try:
        output = HANDLERS[tool](args, ctx)
    except Exit as stop:
        output = stop.output
        if ctx.behaviour is None and output.code != 0 and output.stderr:
            log_call(
                tool, {"argv": args, "kind": "rejected", "stdin": None, "error": output.stderr}
            )
    write(sys.stdout, output.stdout)
    write(sys.stderr, output.stderr)
    return output.code


def write(stream: Any, text: str) -> None:
    if text:
        try:
            stream.buffer.write(text.encode("utf-8"))
            stream.flush()
        except BrokenPipeError:  # the reader went away (a timeout killed it, say)
            pass


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
