"""merge_args: the user's extra_args join our defaults without doubling or lifting guards."""

from __future__ import annotations

from model_chorus.providers import claude, codex, cursor_agent, gemini
from model_chorus.providers.base import ArgRules, merge_args


def test_plain_flag_in_both_keeps_the_users_value_once() -> None:
    merged = merge_args(["--model", "a", "--verbose"], ["--model", "b"], protected=set())
    assert merged == ["--verbose", "--model", "b"]


def test_equals_form_counts_as_the_same_flag() -> None:
    merged = merge_args(["--model", "a"], ["--model=b"], protected=set())
    assert merged == ["--model=b"]


def test_protected_flag_from_the_user_is_dropped_with_its_value() -> None:
    merged = merge_args(
        ["-o", "json"], ["-o", "text", "--debug"], protected={"-o"}, rules=ArgRules()
    )
    assert merged == ["-o", "json", "--debug"]


def test_alias_of_a_protected_flag_is_dropped_too() -> None:
    merged = merge_args(
        ["--sandbox", "read-only"],
        ["-s", "danger-full-access"],
        protected=codex.PROTECTED,
        rules=codex.ARG_RULES,
    )
    assert merged == ["--sandbox", "read-only"]


def test_alias_of_an_overridable_flag_replaces_the_default() -> None:
    merged = merge_args(["-m", "gpt-a"], ["--model", "gpt-b"], rules=codex.ARG_RULES)
    assert merged == ["--model", "gpt-b"]


def test_keyed_flags_with_different_keys_both_stay() -> None:
    merged = merge_args(
        ["-c", "model_reasoning_effort=low", "-c", "hide_agent_reasoning=true"],
        ["-c", "model_verbosity=high"],
        rules=codex.ARG_RULES,
    )
    assert merged == [
        "-c",
        "model_reasoning_effort=low",
        "-c",
        "hide_agent_reasoning=true",
        "-c",
        "model_verbosity=high",
    ]


def test_keyed_flag_with_the_same_key_keeps_the_users_value() -> None:
    merged = merge_args(
        ["-c", "model_reasoning_effort=low", "-c", "hide_agent_reasoning=true"],
        ["--config", "model_reasoning_effort=high"],
        rules=codex.ARG_RULES,
    )
    assert merged == ["-c", "hide_agent_reasoning=true", "--config", "model_reasoning_effort=high"]


def test_protected_key_of_a_keyed_flag_is_dropped() -> None:
    merged = merge_args(
        ["--sandbox", "read-only"],
        ["-c", 'sandbox_mode="danger-full-access"', "-c", "model_verbosity=low"],
        protected=codex.PROTECTED,
        rules=codex.ARG_RULES,
    )
    assert merged == ["--sandbox", "read-only", "-c", "model_verbosity=low"]


def test_repeatable_flag_accumulates_different_values() -> None:
    merged = merge_args(
        ["--disable", "unbounded_connection_retries"],
        ["--disable", "web_search", "--disable", "unbounded_connection_retries"],
        protected=codex.PROTECTED,
        rules=codex.ARG_RULES,
    )
    assert merged == [
        "--disable",
        "web_search",
        "--disable",
        "unbounded_connection_retries",
    ]


def test_protected_value_of_a_repeatable_flag_is_dropped() -> None:
    merged = merge_args(
        ["--disable", "unbounded_connection_retries"],
        ["--enable", "unbounded_connection_retries", "--enable", "web_search"],
        protected=codex.PROTECTED,
        rules=codex.ARG_RULES,
    )
    assert merged == [
        "--disable",
        "unbounded_connection_retries",
        "--enable",
        "web_search",
    ]


def test_variadic_flag_owns_all_its_values() -> None:
    merged = merge_args(
        ["--disallowed-tools", "Bash Edit", "--model", "opus"],
        ["--disallowedTools", "Read", "Grep", "--add-dir", "a", "b"],
        protected=claude.PROTECTED,
        rules=claude.ARG_RULES,
    )
    # The protected deny list stays ours; none of the user's tool names leak out as strays.
    assert merged == ["--disallowed-tools", "Bash Edit", "--model", "opus", "--add-dir", "a", "b"]


def test_switch_does_not_swallow_the_next_argument() -> None:
    merged = merge_args(
        ["--skip-trust"], ["--yolo", "--debug"], protected=gemini.PROTECTED, rules=gemini.ARG_RULES
    )
    assert merged == ["--skip-trust", "--debug"]


def test_repeated_single_value_flag_in_extra_keeps_the_last() -> None:
    merged = merge_args([], ["--model", "a", "--model", "b"], rules=ArgRules())
    assert merged == ["--model", "b"]


def test_positional_extras_are_kept_in_order() -> None:
    merged = merge_args(["--json"], ["--color", "never", "extra"], rules=codex.ARG_RULES)
    assert merged == ["--json", "--color", "never", "extra"]


def test_cursor_force_cannot_be_added() -> None:
    merged = merge_args(
        ["--output-format", "json"],
        ["-f", "--output-format", "text", "--api-key", "k"],
        protected=cursor_agent.PROTECTED,
        rules=cursor_agent.ARG_RULES,
    )
    assert merged == ["--output-format", "json", "--api-key", "k"]
