"""The commented TOML file written by ``config init``, rendered from the Settings classes."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel

from model_chorus import paths
from model_chorus.config import (
    BUILTIN_PROVIDERS,
    ENV_PREFIX,
    ProviderSettings,
    Settings,
    WorkflowSettings,
)

# --- the commented file written by ``config init`` ------------------------------------
#
# Rendered from the Settings classes above, so a new field appears by itself;
# the notes and examples below are its words. A test checks every field has a
# note (and an example when its default is unset), and that uncommenting every
# ``# key = value`` line loads back to exactly the defaults. Example lines are
# indented (``#   key = value``) so they are never mistaken for defaults.

NOTES: dict[str, str] = {
    "default_provider": "Provider asked when a command is given no --provider.",
    "fallback_providers": (
        'Providers tried in order when the default one fails, e.g. ["gemini", "codex"].'
    ),
    "timeout": "Seconds for one provider call, unless a provider or workflow sets its own.",
    "database": "SQLite file of the conversation store.",
    "providers": (
        "One table per provider: " + ", ".join(BUILTIN_PROVIDERS) + ". Each takes the keys "
        f"shown for {BUILTIN_PROVIDERS[0]}."
    ),
    "providers.*.enabled": "false switches the provider off without uninstalling the tool.",
    "providers.*.model": "Model passed with --model; unset lets the tool use its own default.",
    "providers.*.timeout": (
        "Seconds for one call to this provider; unset uses the workflow's or the global timeout."
    ),
    "providers.*.extra_args": (
        "Extra arguments appended to the tool's command line. A flag we also set takes your "
        "value, except the read-only guards and the output format."
    ),
    "providers.*.context_window": (
        "Tokens the model accepts; history, files and prompt are trimmed to fit. "
        "Unset uses a conservative figure for the tool's default model."
    ),
    "providers.*.executable": "Path or name of the tool; unset looks for its usual name on PATH.",
    "providers.*.weight": "Weight of this provider's vote in the weighted consensus strategy.",
    "providers.*.requests_per_minute": (
        "Requests per minute shared by the concurrent calls of one run; unset means no limit."
    ),
    "workflows": (
        "Per-workflow settings, one table per workflow (chat, consensus, argument, ideate, "
        "thinkdeep). None are set by default; for example:"
    ),
    "workflows.*.provider": "Provider for this workflow instead of default_provider.",
    "workflows.*.fallback_providers": "Fallbacks for this workflow instead of fallback_providers.",
    "workflows.*.providers": "Providers a multi-model workflow asks when no -p is given.",
    "workflows.*.timeout": "Seconds for one call in this workflow (a provider's own wins).",
    "retry": (
        "Retries of transient failures: timeouts, rate limits, overload, connection "
        "trouble, and a tool that died without printing anything."
    ),
    "retry.max_attempts": "Attempts per call, the first one included.",
    "retry.initial_delay": "Seconds before the first retry; doubles on each retry.",
    "retry.max_delay": "Longest wait between two attempts, in seconds.",
    "retry.jitter": "Random seconds added to each wait, so parallel retries spread out.",
    "breaker": "Circuit breaker: rest a tool that keeps failing instead of waiting on it.",
    "breaker.enabled": "false: no breaker (no call refused, no failure tracked).",
    "breaker.failure_threshold": "Failed calls in a row that open the breaker.",
    "breaker.reset_timeout": "Seconds an open breaker waits before letting one test call through.",
    "cache": "Response cache: reuse the stored answer to an identical request.",
    "cache.enabled": "true caches every run; otherwise only runs with --cache use it.",
    "cache.ttl_seconds": "How long a cached answer stays usable, in seconds.",
    "context": "Files attached with --file.",
    "context.max_file_bytes": "Largest single file attached, in bytes.",
    "context.max_total_bytes": "Largest total of all attached files, in bytes.",
    "context.history_strategy": (
        "How a long conversation is fitted into the context window: truncate keeps the "
        "newest messages; smart also keeps the first question and the most important "
        "older messages."
    ),
    "context.chunking": (
        "What is kept of a file too large for the budget: head keeps its beginning; "
        "head+tail keeps its beginning and its end (logs, long reports)."
    ),
    "logging": "Log lines on stderr (-v, --debug).",
    "logging.format": "text for people, json for log collectors.",
}

EXAMPLES: dict[str, Any] = {
    "providers.*.model": "sonnet",
    "providers.*.timeout": 600.0,
    "providers.*.context_window": 200_000,
    "providers.*.executable": "/opt/claude/bin/claude",
    "providers.*.requests_per_minute": 30.0,
    "workflows.*.provider": "gemini",
    "workflows.*.fallback_providers": ["codex"],
    "workflows.*.providers": ["claude", "gemini", "codex"],
    "workflows.*.timeout": 900.0,
}

_TEMPLATE_HEADER = f"""\
# model-chorus configuration (TOML).
#
# Every setting is shown commented out with its built-in default; uncomment a
# line to change it. Lines indented after the '#' are examples, not defaults.
# Precedence, lowest first: defaults, the user file, the project
# {paths.PROJECT_CONFIG_NAME} (nearest one walking up), --config FILE, then
# environment variables: {ENV_PREFIX}TIMEOUT=120,
# {ENV_PREFIX}PROVIDERS__GEMINI__MODEL=gemini-2.5-pro.
#
# Check a file with `model-chorus config validate`; see what is in effect,
# and where each value comes from, with `model-chorus config show`.
"""


def render_config_template() -> str:
    """The commented TOML file that ``config init`` writes; it loads as the defaults."""
    lines = [_TEMPLATE_HEADER.rstrip("\n")]
    scalars: list[str] = []
    tables: list[str] = []
    for name, info in Settings.model_fields.items():
        kind = _annotation_class(info.annotation)
        is_table = name in ("providers", "workflows") or (
            kind is not None and issubclass(kind, BaseModel)
        )
        (tables if is_table else scalars).append(name)
    lines.append("")
    for name in scalars:
        lines += _field_lines(Settings, name, name)
        lines.append("")
    for name in tables:
        lines.append(f"# --- {name} " + "-" * (72 - len(name)))
        lines += _comment(NOTES.get(name, ""))
        if name == "providers":
            lines += _provider_tables()
        elif name == "workflows":
            lines.append("#   [workflows.consensus]")
            for field_name in WorkflowSettings.model_fields:
                key = f"workflows.*.{field_name}"
                lines += _comment(NOTES.get(key, ""), indent=2)
                lines.append(f"#   {field_name} = {_toml(EXAMPLES[key])}")
        else:
            section = _annotation_class(Settings.model_fields[name].annotation)
            assert section is not None and issubclass(section, BaseModel)
            lines.append(f"# [{name}]")
            for field_name in section.model_fields:
                lines += _field_lines(section, field_name, f"{name}.{field_name}")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def template_keys() -> list[str]:
    """Every key the template must describe, as in ``NOTES`` (``providers.*.model``)."""
    keys = []
    for name, info in Settings.model_fields.items():
        keys.append(name)
        if name in ("providers", "workflows"):
            section: type[BaseModel] = ProviderSettings if name == "providers" else WorkflowSettings
            keys += [f"{name}.*.{f}" for f in section.model_fields]
        elif (kind := _annotation_class(info.annotation)) is not None and issubclass(
            kind, BaseModel
        ):
            keys += [f"{name}.{f}" for f in kind.model_fields]
    return keys


def _provider_tables() -> list[str]:
    first, *others = BUILTIN_PROVIDERS
    lines = [f"# [providers.{first}]"]
    for field_name in ProviderSettings.model_fields:
        lines += _field_lines(ProviderSettings, field_name, f"providers.*.{field_name}")
    for name in others:
        lines += ["#", f"# [providers.{name}]", "# enabled = true"]
    return lines


def _field_lines(model: type[BaseModel], name: str, key: str) -> list[str]:
    info = model.model_fields[name]
    default = info.get_default(call_default_factory=True)
    note = NOTES.get(key, "")
    choices = get_args(info.annotation) if get_origin(info.annotation) is Literal else ()
    if choices:
        note += " One of: " + ", ".join(str(c) for c in choices) + "."
    if default is None:
        example = EXAMPLES.get(key)
        if key == "database":
            example = str(paths.default_database_path())
            note += " Unset means the file below, in the user data directory."
        note += " For example:"
        lines = _comment(note.strip())
        if example is not None:
            lines.append(f"#   {name} = {_toml(example)}")
        return lines
    return [*_comment(note.strip()), f"# {name} = {_toml(default)}"]


def _comment(text: str, *, indent: int = 0) -> list[str]:
    if not text:
        return []
    pad = "#" + " " * (indent + 1)
    return textwrap.wrap(
        text,
        width=79,
        initial_indent=pad,
        subsequent_indent=pad,
        break_on_hyphens=False,
        break_long_words=False,
    )


def _annotation_class(annotation: Any) -> type | None:
    return annotation if isinstance(annotation, type) else None


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return json.dumps(str(value), ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict) and not value:
        return "{}"
    raise TypeError(f"no TOML rendering for {value!r}")
