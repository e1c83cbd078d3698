"""ideate's data: ideas, clusters and scores, and the deterministic converging steps.

Everything here is pure: duplicate removal and the lexical clustering fallback
work on keyword sets (``similarity.py``), so ideate converges the same way
every time when no model is asked to cluster.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from model_chorus.workflows.similarity import jaccard, keyword_forms, keywords, normalise

SCORE_NAMES = ("feasibility", "impact", "novelty")
SCORE_MIN, SCORE_MAX = 1, 5

#: Two titles sharing this share of keywords name the same idea ("Cache responses" ~
#: "Response caching").
TITLE_DUPLICATE = 0.75
#: Title and description together sharing this share of keywords: the same idea in other words.
TEXT_DUPLICATE = 0.6
#: Mean of the title and the whole-text overlap at which two ideas are one: a title
#: in other words with a description in other words ("Parallel test shards" ~
#: "Shard the test suite", both splitting tests across runners by timing).
MEAN_DUPLICATE = 0.5
#: Average keyword overlap above which the lexical fallback puts two groups together.
CLUSTER_LINK = 0.12


@dataclass
class Idea:
    id: str
    title: str
    description: str = ""
    provider: str | None = None
    perspective: str | None = None
    round: int = 1
    #: Providers that proposed the same idea again (their copy was dropped).
    also_from: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return f"{self.title} {self.description}".strip()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "provider": self.provider,
            "perspective": self.perspective,
            "round": self.round,
            "also_from": list(self.also_from),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Idea:
        return cls(
            id=str(data.get("id") or ""),
            title=str(data.get("title") or ""),
            description=str(data.get("description") or ""),
            provider=data.get("provider"),
            perspective=data.get("perspective"),
            round=int(data.get("round") or 1),
            also_from=[str(p) for p in data.get("also_from") or []],
        )


@dataclass
class Cluster:
    id: str
    theme: str
    idea_ids: list[str]
    #: feasibility / impact / novelty, 1–5; None when the model gave no usable score.
    scores: dict[str, float | None] = field(default_factory=lambda: dict.fromkeys(SCORE_NAMES))
    rationale: str | None = None

    @property
    def total(self) -> float | None:
        """Sum of the known scores; None when none is known."""
        known = [v for v in self.scores.values() if v is not None]
        return sum(known) if known else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "theme": self.theme,
            "idea_ids": list(self.idea_ids),
            "scores": {name: self.scores.get(name) for name in SCORE_NAMES},
            "total": self.total,
            "rationale": self.rationale,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Cluster:
        raw = data.get("scores") or {}
        return cls(
            id=str(data.get("id") or ""),
            theme=str(data.get("theme") or ""),
            idea_ids=[str(i) for i in data.get("idea_ids") or []],
            scores={name: raw.get(name) for name in SCORE_NAMES},
            rationale=data.get("rationale"),
        )


def next_idea_number(ideas: list[Idea]) -> int:
    numbers = [int(i.id[1:]) for i in ideas if i.id[:1] == "I" and i.id[1:].isdigit()]
    return max(numbers, default=0) + 1


def is_duplicate(a: Idea, b: Idea) -> bool:
    """Same idea: equal normalised titles, near-equal title keywords, mostly the same
    words, or titles and texts both half the same."""
    if normalise(a.title) and normalise(a.title) == normalise(b.title):
        return True
    ta, tb = keywords(a.title), keywords(b.title)
    title = jaccard(ta, tb)
    if len(ta) >= 2 and len(tb) >= 2 and title >= TITLE_DUPLICATE:
        return True
    text = jaccard(keywords(a.text), keywords(b.text))
    return text >= TEXT_DUPLICATE or (title + text) / 2 >= MEAN_DUPLICATE


def deduplicate(
    existing: list[Idea], new: list[Idea]
) -> tuple[list[Idea], list[tuple[Idea, Idea]]]:
    """Split ``new`` into kept ideas and (dropped, original) pairs for repeats.

    The first copy wins (earlier rounds, then provider order); it records the
    providers of the dropped copies in ``also_from``.
    """
    seen = list(existing)
    kept: list[Idea] = []
    dropped: list[tuple[Idea, Idea]] = []
    for idea in new:
        original = next((old for old in seen if is_duplicate(old, idea)), None)
        if original is None:
            kept.append(idea)
            seen.append(idea)
            continue
        dropped.append((idea, original))
        repeated_by = idea.provider
        if (
            repeated_by
            and repeated_by != original.provider
            and repeated_by not in original.also_from
        ):
            original.also_from.append(repeated_by)
    return kept, dropped


def lexical_clusters(ideas: list[Idea]) -> list[Cluster]:
    """Average-link agglomerative clustering on keyword overlap; deterministic.

    Two ideas' similarity is the mean of their titles' and their whole texts'
    keyword Jaccard, leaving out words that more than half of the ideas share
    (with "test" in most ideas about CI, "test" says nothing about themes).

    Start with one group per idea and keep merging the two groups whose
    members overlap most on average, while that overlap reaches
    ``CLUSTER_LINK``. Ties go to the earlier groups, so the result depends only
    on the ideas and their order.
    """
    common = common_keywords(ideas)
    titles = [keywords(idea.title) - common for idea in ideas]
    texts = [keywords(idea.text) - common for idea in ideas]
    # Titles carry the gist; descriptions add words that dilute the overlap.
    sim = [
        [
            (jaccard(titles[i], titles[j]) + jaccard(texts[i], texts[j])) / 2
            for j in range(len(ideas))
        ]
        for i in range(len(ideas))
    ]
    groups: list[list[int]] = [[i] for i in range(len(ideas))]

    def link(g: list[int], h: list[int]) -> float:
        return sum(sim[i][j] for i in g for j in h) / (len(g) * len(h))

    while len(groups) > 1:
        best, pair = 0.0, (0, 0)
        for x in range(len(groups)):
            for y in range(x + 1, len(groups)):
                score = link(groups[x], groups[y])
                if score > best:
                    best, pair = score, (x, y)
        if best < CLUSTER_LINK:
            break
        x, y = pair
        groups[x] = sorted(groups[x] + groups[y])
        del groups[y]
    groups.sort(key=lambda g: g[0])
    return [
        Cluster(
            id=f"C{n}",
            theme=lexical_theme([ideas[i] for i in group], common),
            idea_ids=[ideas[i].id for i in group],
        )
        for n, group in enumerate(groups, start=1)
    ]


def common_keywords(ideas: list[Idea]) -> frozenset[str]:
    """Keywords in more than half of at least four ideas: the topic's words, not a theme's."""
    if len(ideas) < 4:
        return frozenset()
    counts: Counter[str] = Counter()
    for idea in ideas:
        counts.update(keywords(idea.text))
    return frozenset(k for k, c in counts.items() if c > len(ideas) / 2)


def lexical_theme(members: list[Idea], common: frozenset[str] = frozenset()) -> str:
    """Up to two words the members share ("Cache / Query"), taken from their titles
    when the titles share any, else from the whole texts; else the first title."""
    if len(members) < 2:
        return members[0].title if members else ""
    for source in ("title", "text"):
        counts: Counter[str] = Counter()
        surface: dict[str, str] = {}
        for idea in members:
            text = idea.title if source == "title" else idea.text
            forms = {k: v for k, v in keyword_forms(text).items() if k not in common}
            counts.update(forms.keys())
            for stem_, word in forms.items():
                surface.setdefault(stem_, word)
        order = {stem_: n for n, stem_ in enumerate(surface)}
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], order[kv[0]]))
        chosen: list[str] = []
        for stem_, count in ranked:
            if count < 2 or len(chosen) == 2:
                break
            # "run" next to "runner" adds nothing.
            if not any(stem_.startswith(c) or c.startswith(stem_) for c in chosen):
                chosen.append(stem_)
        if chosen:
            return " / ".join(surface[s].capitalize() for s in chosen)
    return members[0].title


def complete_clusters(clusters: list[Cluster], ideas: list[Idea]) -> tuple[list[Cluster], int]:
    """Every idea in exactly one cluster: duplicates removed, leftovers in an "Other ideas" group.

    Returns the clusters renumbered C1.. and how many ideas were left over.
    """
    known = {idea.id for idea in ideas}
    placed: set[str] = set()
    result: list[Cluster] = []
    for cluster in clusters:
        members = [i for i in dict.fromkeys(cluster.idea_ids) if i in known and i not in placed]
        if not members:
            continue
        placed.update(members)
        result.append(Cluster(id="", theme=cluster.theme or "Untitled theme", idea_ids=members))
    leftovers = [idea.id for idea in ideas if idea.id not in placed]
    if leftovers:
        result.append(Cluster(id="", theme="Other ideas", idea_ids=leftovers))
    for n, cluster in enumerate(result, start=1):
        cluster.id = f"C{n}"
    return result, len(leftovers)


def recommend_by_scores(clusters: list[Cluster]) -> Cluster | None:
    """The cluster with the highest known total (earliest on a tie); None if nothing is scored."""
    scored = [c for c in clusters if c.total is not None]
    if not scored:
        return None
    return max(scored, key=lambda c: (c.total or 0.0, -clusters.index(c)))


@dataclass
class IdeateState:
    """What ``--continue`` needs: every idea so far, the latest clusters and scores."""

    topic: str = ""
    rounds: list[dict[str, Any]] = field(default_factory=list)
    ideas: list[Idea] = field(default_factory=list)
    clusters: list[Cluster] = field(default_factory=list)
    #: "model" or "lexical": how the current clusters were made.
    clustering: str | None = None
    recommendation: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "rounds": list(self.rounds),
            "ideas": [idea.to_dict() for idea in self.ideas],
            "clusters": [cluster.to_dict() for cluster in self.clusters],
            "clustering": self.clustering,
            "recommendation": self.recommendation,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> IdeateState:
        data = data or {}
        rec = data.get("recommendation")
        return cls(
            topic=str(data.get("topic") or ""),
            rounds=_dicts(data.get("rounds")),
            ideas=[Idea.from_dict(i) for i in _dicts(data.get("ideas"))],
            clusters=[Cluster.from_dict(c) for c in _dicts(data.get("clusters"))],
            clustering=data.get("clustering"),
            recommendation=rec if isinstance(rec, dict) else None,
        )


def _dicts(value: Any) -> list[dict[str, Any]]:
    """The dict items of a stored list; anything else (hand-edited, older shapes) is skipped."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


#: Theme of the cluster that holds ideas another run stored while this one ran.
CONCURRENT_THEME = "Added by another run meanwhile"


@dataclass
class MergedRound:
    """One run's round merged onto the state as stored when saving."""

    state: IdeateState
    #: This run's new ideas as stored: renumbered after ideas stored meanwhile.
    new_ideas: list[Idea]
    #: This run's new ideas that repeat ideas stored meanwhile: (dropped, stored original).
    repeats: list[tuple[Idea, Idea]]
    #: Ideas another run stored meanwhile (in the ``CONCURRENT_THEME`` cluster, unscored).
    others: list[Idea]


def merge_round(stored: IdeateState, mine: IdeateState, known: set[str]) -> MergedRound:
    """``mine`` — the ideas ``known`` when this run started plus this run's round, clustered
    and scored — merged onto ``stored``, the state as stored now.

    Ideas and rounds are appended: this run's new ideas are checked for repeats of
    ideas stored meanwhile and numbered after them, its round after the stored
    rounds. The clusters, scores and recommendation are a view every round makes
    afresh, so this run's are kept (with its ideas' stored ids), plus one cluster
    for ideas another run stored meanwhile, until the next round clusters them.
    When nothing was stored meanwhile the result is ``mine``.
    """
    merged = IdeateState.from_dict(stored.to_dict())
    merged.topic = merged.topic or mine.topic
    # What this run's repeats added to ideas it knew (``also_from``) is kept.
    mine_by_id = {idea.id: idea for idea in mine.ideas}
    for idea in merged.ideas:
        if idea.id in known and idea.id in mine_by_id:
            extra = [p for p in mine_by_id[idea.id].also_from if p not in idea.also_from]
            idea.also_from.extend(extra)
    others = [idea for idea in merged.ideas if idea.id not in known]
    new = [Idea.from_dict(idea.to_dict()) for idea in mine.ideas if idea.id not in known]
    kept, repeats = deduplicate(merged.ideas, new)
    renamed: dict[str, str] = {}
    round_no = len(merged.rounds) + 1
    for number, idea in enumerate(kept, start=next_idea_number(merged.ideas)):
        renamed[idea.id] = f"I{number}"
        idea.id = f"I{number}"
        idea.round = round_no
    renamed.update((idea.id, original.id) for idea, original in repeats)
    merged.ideas.extend(kept)

    entry = dict(mine.rounds[-1]) if mine.rounds else {}
    entry.update(
        round=round_no,
        new_ideas=[idea.id for idea in kept],
        duplicates=int(entry.get("duplicates") or 0) + len(repeats),
    )
    merged.rounds.append(entry)

    placed: set[str] = set()
    merged.clusters = []
    for cluster in mine.clusters:
        members = [
            i for i in dict.fromkeys(renamed.get(i, i) for i in cluster.idea_ids) if i not in placed
        ]
        if not members:
            continue
        placed.update(members)
        merged.clusters.append(
            Cluster(cluster.id, cluster.theme, members, dict(cluster.scores), cluster.rationale)
        )
    leftovers = [idea.id for idea in merged.ideas if idea.id not in placed]
    if leftovers:
        merged.clusters.append(Cluster(f"C{len(merged.clusters) + 1}", CONCURRENT_THEME, leftovers))
    merged.clustering = mine.clustering
    merged.recommendation = mine.recommendation
    return MergedRound(merged, kept, repeats, others)
