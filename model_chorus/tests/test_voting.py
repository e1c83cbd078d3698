"""Ballots read from realistic voting replies, and the tally with ties and weights."""

from __future__ import annotations

import pytest

from model_chorus.workflows.voting import (
    Ballot,
    candidate_labels,
    parse_ballot,
    shuffled_labels,
    tally,
)

LABELS = ["A", "B", "C"]


@pytest.mark.parametrize(
    ("reply", "label", "reason"),
    [
        ('```json\n{"vote": "B", "reason": "Most complete."}\n```', "B", "Most complete."),
        # Prose around the block, lower-case label, a different reason key.
        (
            'After comparing them:\n\n```json\n{"vote": "c", "reasoning": "cites sources"}\n```'
            "\nHope that helps!",
            "C",
            "cites sources",
        ),
        # No fence, trailing comma, "Answer A" as the value.
        ('{"vote": "Answer A", "reason": "correct on WAL",}', "A", "correct on WAL"),
        ('{"choice": "(B)", "why": "shorter"}', "B", "shorter"),
        # Markdown labels instead of JSON.
        ("**Vote:** B\n**Reason:** It handles the edge case.", "B", "It handles the edge case."),
        ("Vote: Candidate A", "A", ""),
        # Plain prose.
        ("Having read all three, I vote for C because it is right.", "C", ""),
        ("My choice is (A).", "A", ""),
    ],
)
def test_parse_ballot_reads_the_shapes_models_produce(reply: str, label: str, reason: str) -> None:
    assert parse_ballot(reply, LABELS) == (label, reason)


@pytest.mark.parametrize(
    "reply",
    [
        "",
        "They are all good answers; I cannot decide.",
        # A label that is not a candidate.
        '{"vote": "D", "reason": "best"}',
        # Lower-case "a" in prose is an article, not a vote.
        "I would vote for a simpler design overall.",
        '{"vote": null}',
    ],
)
def test_parse_ballot_without_a_valid_label_is_an_abstention(reply: str) -> None:
    assert parse_ballot(reply, LABELS) == (None, "")


def test_a_json_label_outside_the_candidates_falls_through_to_a_valid_prose_vote() -> None:
    reply = 'Scores: {"answer": "none of the above"}\nVote: B'
    assert parse_ballot(reply, LABELS)[0] == "B"


def test_tally_majority_winner() -> None:
    ballots = [Ballot("claude", "A"), Ballot("gemini", "A"), Ballot("codex", "B")]
    result = tally(ballots, LABELS)
    assert result.scores == {"A": 2.0, "B": 1.0, "C": 0.0}
    assert result.winners == ["A"]
    assert not result.tie
    assert result.counted == 3


def test_tally_reports_a_tie_with_every_tied_label() -> None:
    ballots = [Ballot("claude", "A"), Ballot("gemini", "B"), Ballot("codex", None)]
    result = tally(ballots, LABELS)
    assert result.tie
    assert result.winners == ["A", "B"]
    assert result.counted == 2


def test_tally_weights_decide_and_zero_weight_does_not_count() -> None:
    ballots = [
        Ballot("claude", "A", weight=1.0),
        Ballot("gemini", "B", weight=2.5),
        Ballot("codex", "A", weight=1.0),
        Ballot("cursor-agent", "C", weight=0.0),
    ]
    result = tally(ballots, LABELS)
    assert result.scores == {"A": 2.0, "B": 2.5, "C": 0.0}
    assert result.winners == ["B"]
    assert result.counted == 3


def test_tally_with_only_abstentions_has_no_winner() -> None:
    result = tally([Ballot("claude", None), Ballot("gemini", None)], LABELS)
    assert not result.decided
    assert result.winners == []
    assert not result.tie


def test_candidate_labels() -> None:
    assert candidate_labels(3) == ["A", "B", "C"]
    with pytest.raises(ValueError, match="at most 26"):
        candidate_labels(27)


def test_shuffled_labels_are_a_permutation_fixed_by_the_seed() -> None:
    assert sorted(shuffled_labels(5, "thread:1")) == ["A", "B", "C", "D", "E"]
    assert shuffled_labels(3, "thread:1") == shuffled_labels(3, "thread:1")
    # Over turns, the first provider's answer is not always the one labelled A.
    firsts = {shuffled_labels(3, f"thread:{turn}")[0] for turn in range(1, 31)}
    assert firsts == {"A", "B", "C"}
