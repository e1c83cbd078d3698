"""Labelled sections read from messy replies: key points, agreement/differences, verdicts."""

from __future__ import annotations

import pytest

from model_chorus.workflows.replies import (
    extract_last_list,
    find_labelled_or_heading,
    find_section_items,
)

ARGUMENT_REPLY = """\
Rewriting in Rust is worth it for this service. The hot path allocates heavily
and the GC pauses show up in p99 latency.

- It is not only about speed, though.
- Memory safety matters here too.

**Key Points:**

1. **Latency** – GC pauses disappear
2. Memory safety without a runtime
   cost, checked at compile time
3. `cargo` gives reproducible builds

Happy to elaborate."""


def test_key_points_under_a_bold_label_with_numbered_items_and_continuations() -> None:
    assert find_section_items(ARGUMENT_REPLY, "Key points") == [
        "Latency – GC pauses disappear",
        "Memory safety without a runtime cost, checked at compile time",
        "cargo gives reproducible builds",
    ]


@pytest.mark.parametrize(
    "reply",
    [
        "Intro.\n\n## Key points\n- one\n- two\n\n## Other\n- not this",
        "Intro.\n\nKEY POINTS:\n* one\n* two",
        "Intro.\n\n### Key Points (for)\n\n- one\n\n- two\n\nThanks",
        "Key points: one; two",
        "**Key points:** one; two",
    ],
)
def test_key_point_heading_variants(reply: str) -> None:
    assert find_section_items(reply, "Key points") == ["one", "two"]


def test_the_last_section_with_items_wins_and_alternative_labels_count() -> None:
    reply = "Main points:\n- early\n\nbody\n\nKey points:\n- final"
    assert find_section_items(reply, "Key points", "Main points") == ["final"]


def test_a_label_in_prose_is_not_a_section() -> None:
    reply = "Key points are what the moderator weighs.\n- a list item"
    assert find_section_items(reply, "Key points") is None


def test_a_label_with_nothing_listed_gives_an_empty_list() -> None:
    assert find_section_items("Key points:\nnone really, sorry", "Key points") == []


def test_synthesis_sections_by_alternative_headings() -> None:
    reply = (
        "## Answer\nUse WAL.\n\n## Where they agree\n- WAL helps readers\n\n"
        "## Differences\n- claude says NFS is fine; gemini disagrees\n"
    )
    assert find_section_items(reply, "Agreement", "Where they agree") == ["WAL helps readers"]
    assert find_section_items(reply, "Differences") == ["claude says NFS is fine; gemini disagrees"]


def test_extract_last_list_takes_the_closing_list() -> None:
    text = "- a\n- b\n\ntext between\n\n* c\n* d\n  continued\n\nThe end."
    assert extract_last_list(text) == ["c", "d continued"]
    assert extract_last_list("no lists at all") == []


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (
            "Synthesis...\n\nVerdict: The skeptic is better supported.",
            "The skeptic is better supported.",
        ),
        ("**Verdict:** It depends on team skills.", "It depends on team skills."),
        ("## Verdict\n\nThe creator wins.\n\n## Recommendation\nPilot it.", "The creator wins."),
        ("**Verdict**\nBalanced.", "Balanced."),
        ("No verdict here, just prose.", None),
        ("## Verdict\n## Recommendation\nPilot it.", None),
    ],
)
def test_find_labelled_or_heading(reply: str, expected: str | None) -> None:
    assert find_labelled_or_heading(reply, "Verdict") == expected
