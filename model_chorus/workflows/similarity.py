"""Lexical text similarity: keyword sets and Jaccard overlap.

Used to spot duplicate ideas, to cluster ideas when no model clustering is
available, and to match a model's restated hypothesis to a stored one. It is
deliberately crude and deterministic (no embeddings model, no torch): same
input, same answer, in microseconds.
"""

from __future__ import annotations

import re
from collections.abc import Collection

#: Words that carry no topic; dropping them keeps "a cache for the API" and
#: "cache API responses" close.
_STOPWORD_TEXT = """
    a about above after again all also an and any are as at be because been before being
    below between both but by can could did do does doing down during each either etc
    every few for from further get gets had has have having here how i if in into is it
    its itself just let like make makes may might more most much must my new no nor not
    now of off on once one only or other our out over own per same should so some such
    than that the their them then there these they this those through to too under
    until up upon use used uses using very via was way we well were what when where
    which while who why will with within without would you your
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_PLURALS = (("ies", "y"), ("es", ""), ("s", ""))
_VERB_ENDINGS = ("ing", "ed")
#: Shortest stem a suffix may leave behind ("using" stays "using", not "us").
_MIN_STEM = 3


def normalise(text: str) -> str:
    """Lower case, punctuation and markdown gone, single spaces."""
    return " ".join(_WORD.findall(text.lower()))


def stem(word: str) -> str:
    """A crude stem so that cache/caches/caching/cached, response/responses and
    timing/timings meet: a plural ending, then a verb ending, then a final "e" go."""
    for suffix, replacement in _PLURALS:
        if _strippable(word, suffix) and not (suffix == "s" and word.endswith("ss")):
            word = word[: -len(suffix)] + replacement
            break
    for suffix in _VERB_ENDINGS:
        if _strippable(word, suffix):
            word = word[: -len(suffix)]
            break
    if _strippable(word, "e"):
        word = word[:-1]
    return word


def _strippable(word: str, suffix: str) -> bool:
    return word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM


def keyword_forms(text: str) -> dict[str, str]:
    """Stem → the first surface form seen, for the topic words of ``text`` (in order)."""
    forms: dict[str, str] = {}
    for word in _WORD.findall(text.lower()):
        word = word.split("'")[0]
        if len(word) < 2 or word in STOPWORDS or word.isdigit():
            continue
        forms.setdefault(stem(word), word)
    return forms


def keywords(text: str) -> frozenset[str]:
    """The stems of the topic words of ``text``."""
    return frozenset(keyword_forms(text))


def jaccard(a: Collection[str], b: Collection[str]) -> float:
    """|a ∩ b| / |a ∪ b|; 0.0 when both are empty."""
    sa, sb = set(a), set(b)
    union = sa | sb
    return len(sa & sb) / len(union) if union else 0.0


def similar_text(a: str, b: str, threshold: float = 0.6) -> bool:
    """Same words once normalised, or keyword sets overlapping at least ``threshold``."""
    if normalise(a) == normalise(b):
        return True
    return jaccard(keywords(a), keywords(b)) >= threshold
