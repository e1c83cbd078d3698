"""Votes on anonymised candidate answers: reading a ballot out of a reply, and the tally.

Kept apart from the consensus workflow because both halves are pure functions
that deserve their own tests: ballots come back in every shape models produce
("**Vote:** B", ``{"vote": "Answer A"}``, "I choose (C)"), and ties must be
reported rather than broken silently.
"""

from __future__ import annotations

import math
import random
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from model_chorus.workflows.replies import extract_json_object, find_labelled, strip_markdown

_VOTE_KEYS = ("vote", "choice", "best", "answer", "winner")
_REASON_KEYS = ("reason", "reasoning", "rationale", "why", "explanation")
#: "A", "(B)", "Answer C", "Candidate d.", "Option [A] — because ..."
_LABEL_VALUE = re.compile(
    r"^\W*(?:candidate|answer|option|response)?\s*[(\[]?\s*([A-Za-z])\s*[)\]]?(?![A-Za-z0-9])",
    re.IGNORECASE,
)
#: Prose ballots: "I vote for B", "my choice is (A)", "I pick Answer C". Capital letter only,
#: so "I vote for a simpler design" is not read as a vote for A.
_PROSE_VOTE = re.compile(
    r"\b(?:[Vv]ote|[Cc]hoose|[Cc]hoice|[Pp]ick|[Ss]elect|[Pp]refer)\w*"
    r"(?:\s+(?:is|for|goes\s+to|would\s+be))*\s*:?\s*"
    r"(?:(?:[Cc]andidate|[Aa]nswer|[Oo]ption|[Rr]esponse)\s+)?\**[(\[]?([A-Z])[)\]]?\**(?![A-Za-z0-9])"
)


def candidate_labels(count: int) -> list[str]:
    """A, B, C ... for ``count`` candidates (at most 26: one per provider in practice)."""
    if count > len(string.ascii_uppercase):
        raise ValueError(f"at most {len(string.ascii_uppercase)} candidates can be labelled")
    return list(string.ascii_uppercase[:count])


def shuffled_labels(count: int, seed: str) -> list[str]:
    """Labels for ``count`` candidates in an order fixed by ``seed``: candidate i gets label i.

    Models judging answers favour the first one they read, so the answer labelled A
    (and shown first) must not always be the same provider's. The seed (thread and
    turn) makes a turn's labelling reproducible.
    """
    labels = candidate_labels(count)
    random.Random(seed).shuffle(labels)
    return labels


@dataclass(frozen=True)
class Ballot:
    """One voter's ballot. ``label`` None means the voter abstained (no usable vote)."""

    voter: str
    label: str | None
    reason: str = ""
    weight: float = 1.0

    @property
    def abstained(self) -> bool:
        return self.label is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "voter": self.voter,
            "vote": self.label,
            "reason": self.reason,
            "weight": self.weight,
            "abstained": self.abstained,
        }


def parse_ballot(text: str, labels: Sequence[str]) -> tuple[str | None, str]:
    """(label, reason) read from a voting reply; label None when no valid label is found.

    Tries, in order: a JSON object with a ``vote``-like key, a ``Vote:`` line,
    then a prose phrase such as "I vote for B". A label that is not one of
    ``labels`` does not count.
    """
    valid = {label.upper() for label in labels}
    obj = extract_json_object(text, *_VOTE_KEYS)
    if obj is not None:
        for key in _VOTE_KEYS:
            label = _label_from(obj.get(key), valid)
            if label:
                return label, _reason_from(obj)
    for key in _VOTE_KEYS[:3]:
        label = _label_from(find_labelled(text, key), valid)
        if label:
            return label, find_labelled(text, "reason") or ""
    for match in _PROSE_VOTE.finditer(text):
        if match.group(1) in valid:
            return match.group(1), ""
    return None, ""


def _label_from(value: object, valid: set[str]) -> str | None:
    if not isinstance(value, str):
        return None
    match = _LABEL_VALUE.match(strip_markdown(value))
    if match and match.group(1).upper() in valid:
        return match.group(1).upper()
    return None


def _reason_from(obj: dict[str, Any]) -> str:
    for key in _REASON_KEYS:
        value = obj.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


@dataclass
class Tally:
    """Scores per candidate label; ``winners`` holds every label sharing the top score."""

    scores: dict[str, float] = field(default_factory=dict)
    winners: list[str] = field(default_factory=list)
    counted: int = 0

    @property
    def tie(self) -> bool:
        return len(self.winners) > 1

    @property
    def decided(self) -> bool:
        return bool(self.winners)


def tally(ballots: Sequence[Ballot], labels: Sequence[str]) -> Tally:
    """Sum each ballot's weight for its label. Abstentions and zero weights do not count;
    when nothing counts there is no winner (``decided`` is False)."""
    scores = dict.fromkeys(labels, 0.0)
    counted = 0
    for ballot in ballots:
        if ballot.label is None or ballot.label not in scores or ballot.weight <= 0:
            continue
        scores[ballot.label] += ballot.weight
        counted += 1
    if counted == 0:
        return Tally(scores=scores, counted=0)
    top = max(scores.values())
    winners = [label for label, score in scores.items() if math.isclose(score, top)]
    return Tally(scores=scores, winners=winners, counted=counted)
