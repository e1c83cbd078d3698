"""ideate's reply parsers and converging steps, on replies shaped like real model output."""

from __future__ import annotations

import pytest

from model_chorus.workflows.ideas import (
    Cluster,
    Idea,
    IdeateState,
    complete_clusters,
    deduplicate,
    is_duplicate,
    lexical_clusters,
    recommend_by_scores,
)
from model_chorus.workflows.ideate_replies import (
    cluster_ref,
    idea_ref,
    parse_clusters,
    parse_ideas,
    parse_recommendation,
    parse_scores,
    score_value,
    split_title,
)
from model_chorus.workflows.replies import extract_table, find_labelled_block
from model_chorus.workflows.similarity import keywords, normalise, similar_text, stem

# --- ideas --------------------------------------------------------------------------


def test_json_in_a_fence_with_prose_and_a_trailing_comma() -> None:
    reply = (
        "Sure! Here are some ideas:\n\n```json\n"
        '{"ideas": [\n'
        '  {"title": "Cache dependencies", "description": "Keep pip caches between runs."},\n'
        '  {"title": "Split the test suite", "description": "Run shards in parallel."},\n'
        "]}\n```\nHope this helps!"
    )
    parsed = parse_ideas(reply)
    assert parsed.source == "json"
    assert [(i.title, i.description) for i in parsed.items] == [
        ("Cache dependencies", "Keep pip caches between runs."),
        ("Split the test suite", "Run shards in parallel."),
    ]


def test_json_with_other_key_names_and_plain_strings() -> None:
    reply = (
        '[{"name": "Nightly full run", "details": "Everything else per PR."}, '
        '"Fail fast: stop at the first error"]'
    )
    items = parse_ideas(reply).items
    assert [(i.title, i.description) for i in items] == [
        ("Nightly full run", "Everything else per PR."),
        ("Fail fast", "stop at the first error"),
    ]


def test_numbered_list_with_bold_titles_dashes_and_wrapped_lines() -> None:
    reply = (
        "Here are 3 ideas to speed up CI:\n\n"
        "1. **Cache dependencies**: keep pip caches between runs.\n"
        "2. **Parallel test shards** — split tests across 4 runners.\n"
        "   This alone could halve the time.\n"
        "3. Skip docs builds on code-only changes - use path filters.\n\n"
        "Let me know if you want more detail."
    )
    parsed = parse_ideas(reply)
    assert parsed.source == "list"
    assert [(i.title, i.description) for i in parsed.items] == [
        ("Cache dependencies", "keep pip caches between runs."),
        ("Parallel test shards", "split tests across 4 runners. This alone could halve the time."),
        ("Skip docs builds on code-only changes", "use path filters."),
    ]


def test_numbered_headings_take_their_bullets_as_description() -> None:
    reply = (
        "## Ideas\n\n### 1. Cache dependencies\nKeep pip caches between runs.\n\n"
        "### 2. Test sharding\n- Split tests by timing data\n- Run on 4 runners\n\n"
        "### Idea 3: Path filters\nOnly build docs when docs change.\n"
    )
    parsed = parse_ideas(reply)
    assert parsed.source == "headings"
    assert [(i.title, i.description) for i in parsed.items] == [
        ("Cache dependencies", "Keep pip caches between runs."),
        ("Test sharding", "Split tests by timing data; Run on 4 runners"),
        ("Path filters", "Only build docs when docs change."),
    ]


def test_nested_bullets_belong_to_their_idea_and_sections_do_not_end_the_list() -> None:
    reply = (
        "## Quick wins\n"
        "- Idea 1: Use a build cache\n"
        "    - remote cache via bazel\n\n"
        "## Bigger bets\n"
        "- Idea 2: Fail fast on lint\n"
    )
    items = parse_ideas(reply).items
    assert [(i.title, i.description) for i in items] == [
        ("Use a build cache", "remote cache via bazel"),
        ("Fail fast on lint", ""),
    ]


def test_prose_without_any_list_degrades_to_paragraphs() -> None:
    reply = "Caching would help most.\n\nAnother option is to use bigger machines."
    parsed = parse_ideas(reply)
    assert parsed.source == "paragraphs"
    assert [i.title for i in parsed.items] == [
        "Caching would help most.",
        "Another option is to use bigger machines.",
    ]


def test_empty_reply_has_no_ideas() -> None:
    assert parse_ideas("   \n").source == "none"
    assert parse_ideas("").items == []


def test_split_title_keeps_long_text_and_cuts_the_title() -> None:
    text = "A " + "very " * 40 + "long idea without any separator at all"
    draft = split_title(text)
    assert draft.title.endswith("…") and len(draft.title) <= 101
    assert draft.description == text
    first, rest = "Precompute the graph.", "Then reuse it " + "everywhere " * 12
    assert split_title(f"{first} {rest}").title == "Precompute the graph"


# --- similarity and duplicates -------------------------------------------------------


def test_stemming_and_keywords_bring_word_forms_together() -> None:
    assert stem("caching") == stem("cache") == stem("cached")
    assert stem("responses") == stem("response")
    assert stem("using") == "using"  # a suffix may not leave a two-letter stem
    assert stem("timings") == stem("timing")
    assert stem("processes") == stem("process") and stem("classes") == stem("class")
    assert stem("caches") == stem("cache") and stem("files") == stem("file")
    assert keywords("Cache the API responses") == keywords("caching API response")
    assert normalise("**Cache**, the API!") == "cache the api"
    assert similar_text("Response caching", "Cache responses")
    assert not similar_text("Response caching", "Shard the tests")


def test_duplicates_by_title_and_by_wording() -> None:
    a = Idea("I1", "Cache dependencies", "Keep pip and npm caches between CI runs", "claude")
    assert is_duplicate(a, Idea("X", "cache dependencies!", "something else"))
    assert is_duplicate(a, Idea("X", "Dependencies cache", "other words entirely"))
    reworded = Idea("X", "Dependency caching", "Cache pip and npm dependencies between CI runs")
    assert is_duplicate(a, reworded)
    assert not is_duplicate(a, Idea("X", "Use bigger runners", "More CPUs per job"))
    shards = Idea("I2", "Shard the test suite", "Split the tests across four runners by timings")
    assert is_duplicate(
        shards, Idea("X", "Parallel test shards", "Split tests across runners by timing data")
    )
    assert not is_duplicate(shards, Idea("X", "Run tests in parallel", "pytest-xdist on all cores"))
    assert not is_duplicate(
        a, Idea("X", "Cache Docker layers", "Reuse docker build layers via a registry")
    )


def test_deduplicate_keeps_the_first_copy_and_credits_the_other_provider() -> None:
    existing = [Idea("I1", "Cache dependencies", "Keep pip caches", "claude")]
    new = [
        Idea("", "Caching dependencies", "Keep pip caches", "gemini"),
        Idea("", "Use bigger runners", "More CPUs", "gemini"),
        Idea("", "Bigger runners", "More CPUs", "codex"),
    ]
    kept, dropped = deduplicate(existing, new)
    assert [i.title for i in kept] == ["Use bigger runners"]
    assert [(d.provider, o.title) for d, o in dropped] == [
        ("gemini", "Cache dependencies"),
        ("codex", "Use bigger runners"),
    ]
    assert existing[0].also_from == ["gemini"]
    assert kept[0].also_from == ["codex"]


# --- clustering -------------------------------------------------------------------

IDEAS = [
    Idea(f"I{n}", title, desc, "claude")
    for n, (title, desc) in enumerate(
        [
            ("Cache dependencies", "Keep pip and npm caches between CI runs"),
            ("Cache Docker layers", "Reuse docker build layers via a registry cache"),
            ("Shard the test suite", "Split tests across parallel runners by timing"),
            ("Run tests in parallel", "Use pytest-xdist to run tests on all cores"),
            ("Skip docs builds", "Path filters so docs only build when docs change"),
            ("Only lint changed files", "Lint just the files touched by the change"),
        ],
        start=1,
    )
]


def test_lexical_clustering_groups_shared_keywords_deterministically() -> None:
    clusters = lexical_clusters(IDEAS)
    assert [(c.id, c.idea_ids) for c in clusters] == [
        ("C1", ["I1", "I2"]),
        ("C2", ["I3", "I4"]),
        ("C3", ["I5"]),
        ("C4", ["I6"]),
    ]
    assert clusters[0].theme == "Cache"
    assert clusters[1].theme == "Test"  # the words the titles share
    assert clusters[2].theme == "Skip docs builds"  # a single idea keeps its title
    assert [c.to_dict() for c in lexical_clusters(list(IDEAS))] == [c.to_dict() for c in clusters]


def test_words_most_ideas_share_do_not_make_a_theme() -> None:
    ideas = [
        Idea(f"I{n}", title, desc)
        for n, (title, desc) in enumerate(
            [
                ("Shard the test suite", "Split the tests across four runners by timings"),
                ("Run tests in parallel", "pytest-xdist on all cores of each runner"),
                ("Test impact analysis", "run only the tests affected by the changed files"),
                ("Quarantine flaky tests", "Move tests that fail intermittently aside"),
                ("Flaky test dashboard", "Track failure rates per test"),
                ("Retry only failed shards", "Rerun the failing shard, not the pipeline"),
            ],
            start=1,
        )
    ]
    clusters = lexical_clusters(ideas)
    # "test" is in every idea: without it, flaky goes with flaky and shard with shard.
    assert [(c.theme, c.idea_ids) for c in clusters] == [
        ("Shard", ["I1", "I6"]),
        ("Run tests in parallel", ["I2"]),
        ("Test impact analysis", ["I3"]),
        ("Flaky", ["I4", "I5"]),
    ]


def test_lexical_clustering_of_nothing_and_of_one() -> None:
    assert lexical_clusters([]) == []
    assert [c.idea_ids for c in lexical_clusters(IDEAS[:1])] == [["I1"]]


@pytest.mark.parametrize(
    "reply",
    [
        '```json\n{"clusters": [{"theme": "Caching", "idea_ids": ["I1", "I2"]}, '
        '{"theme": "Tests", "ideas": [3, "i4"]}, '
        '{"name": "Less work", "idea_ids": ["#5", "Idea 6", "I9"]}]}\n```',
        "**Caching**: I1, I2\n**Tests** (I3, I4)\n### Less work\n"
        "- I5 Skip docs builds\n- I6 Only lint changed files",
        '{"Caching": ["I1", "I2"], "Tests": ["I3", "I4"], '
        '"Less work": ["I5", "Only lint changed files"]}',
    ],
)
def test_model_clusters_in_json_markdown_or_mapping(reply: str) -> None:
    clusters = parse_clusters(reply, IDEAS)
    assert clusters is not None
    assert [(c.theme, c.idea_ids) for c in clusters] == [
        ("Caching", ["I1", "I2"]),
        ("Tests", ["I3", "I4"]),
        ("Less work", ["I5", "I6"]),
    ]


def test_a_reply_without_known_ids_is_no_clustering() -> None:
    assert parse_clusters("I could not group these, sorry.", IDEAS) is None
    assert parse_clusters('{"clusters": [{"theme": "X", "idea_ids": ["I42"]}]}', IDEAS) is None


def test_complete_clusters_places_leftovers_and_drops_repeats() -> None:
    clusters = [
        Cluster("", "Caching", ["I1", "I2"]),
        Cluster("", "Tests", ["I2", "I3", "I4"]),
        Cluster("", "", ["I1"]),
    ]
    complete, leftovers = complete_clusters(clusters, IDEAS)
    assert [(c.id, c.theme, c.idea_ids) for c in complete] == [
        ("C1", "Caching", ["I1", "I2"]),
        ("C2", "Tests", ["I3", "I4"]),
        ("C3", "Other ideas", ["I5", "I6"]),
    ]
    assert leftovers == 2


def test_idea_and_cluster_references() -> None:
    assert idea_ref("i3", IDEAS) == "I3"
    assert idea_ref(" Idea #4 ", IDEAS) == "I4"
    assert idea_ref(2, IDEAS) == "I2"
    assert idea_ref("Skip docs builds", IDEAS) == "I5"
    assert idea_ref("I99", IDEAS) is None
    assert idea_ref(True, IDEAS) is None
    clusters = [Cluster("C1", "Caching", []), Cluster("C2", "Tests", [])]
    assert cluster_ref("c2", clusters) == "C2"
    assert cluster_ref("Cluster 1", clusters) == "C1"
    assert cluster_ref(2, clusters) == "C2"
    assert cluster_ref("tests", clusters) == "C2"
    assert cluster_ref("C3", clusters) is None


# --- scores and recommendation --------------------------------------------------------

CLUSTERS = [Cluster("C1", "Caching", ["I1", "I2"]), Cluster("C2", "Testing", ["I3", "I4"])]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (4, 4),
        ("4", 4),
        ("4/5", 4),
        ("8/10", 4),
        ("3 out of 10", 1.5),
        ("4.5", 4.5),
        ("high", 4),
        ("Very High", 5),
        (0, None),
        (7, None),
        ("n/a", None),
        (None, None),
        (True, None),
    ],
)
def test_score_values(value: object, expected: float | None) -> None:
    assert score_value(value) == expected


def test_scores_and_recommendation_from_json() -> None:
    reply = (
        "Here is my assessment.\n```json\n"
        '{"scores": [{"cluster": "C1", "feasibility": 5, "impact": "4/5", "novelty": 2, '
        '"rationale": "Easy."}, {"cluster": "Testing", "scores": {"Feasibility": 3, '
        '"Impact": 4}}], "recommendation": {"cluster": "C1", "reason": "Cheap win."}}\n```'
    )
    scores = parse_scores(reply, CLUSTERS)
    assert scores["C1"].scores == {"feasibility": 5, "impact": 4, "novelty": 2}
    assert scores["C1"].rationale == "Easy."
    assert scores["C2"].scores == {"feasibility": 3, "impact": 4, "novelty": None}
    rec = parse_recommendation(reply, CLUSTERS)
    assert rec is not None and (rec.cluster_id, rec.reason) == ("C1", "Cheap win.")


def test_scores_from_a_markdown_table() -> None:
    reply = (
        "| Cluster | Feasibility | Impact | Novelty | Notes |\n"
        "|---|:---:|---|---|---|\n"
        "| C1 Caching | 5 | 4 | 2 | easy |\n"
        "| **C2** | 3 | 4/5 | 3 | |\n\n"
        "Recommendation: **C1** — cheapest"
    )
    scores = parse_scores(reply, CLUSTERS)
    assert scores["C1"].scores == {"feasibility": 5, "impact": 4, "novelty": 2}
    assert scores["C1"].rationale == "easy"
    assert scores["C2"].scores == {"feasibility": 3, "impact": 4, "novelty": 3}
    rec = parse_recommendation(reply, CLUSTERS)
    assert rec is not None and (rec.cluster_id, rec.reason) == ("C1", "cheapest")


def test_scores_from_prose_sections_with_an_out_of_range_value() -> None:
    reply = (
        "**C1 – Caching**\n- Feasibility: 5/5\n- Impact: 4\n- Novelty: 2\n\n"
        "**Testing** — feasibility 3, impact 4, novelty 12\n\n"
        "Recommended: Testing, because it scales."
    )
    scores = parse_scores(reply, CLUSTERS)
    assert scores["C1"].scores == {"feasibility": 5, "impact": 4, "novelty": 2}
    assert scores["C2"].scores == {"feasibility": 3, "impact": 4, "novelty": None}
    rec = parse_recommendation(reply, CLUSTERS)
    assert rec is not None and rec.cluster_id == "C2"


def test_no_scores_and_no_recommendation_in_an_evasive_reply() -> None:
    reply = "All of these themes have merit; it depends on your team."
    assert parse_scores(reply, CLUSTERS) == {}
    assert parse_recommendation(reply, CLUSTERS) is None


def test_recommend_by_scores_uses_totals_and_the_earlier_cluster_on_a_tie() -> None:
    a = Cluster("C1", "A", [], {"feasibility": 4, "impact": 4, "novelty": None})
    b = Cluster("C2", "B", [], {"feasibility": 5, "impact": 3, "novelty": None})
    c = Cluster("C3", "C", [])
    assert a.total == 8 and c.total is None
    assert recommend_by_scores([a, b, c]) is a
    assert recommend_by_scores([c]) is None


def test_state_round_trips_and_tolerates_junk() -> None:
    state = IdeateState(
        topic="t",
        rounds=[{"round": 1}],
        ideas=[IDEAS[0]],
        clusters=[
            Cluster("C1", "Caching", ["I1"], {"feasibility": 4, "impact": None, "novelty": 2})
        ],
        clustering="model",
        recommendation={"cluster": "C1"},
    )
    assert IdeateState.from_dict(state.to_dict()).to_dict() == state.to_dict()
    junk = IdeateState.from_dict({"ideas": ["x", {"title": "Kept"}], "clusters": None, "rounds": 3})
    assert [i.title for i in junk.ideas] == ["Kept"] and junk.clusters == [] and junk.rounds == []


# --- generic helpers added to replies.py ---------------------------------------------------


def test_extract_table_and_labelled_block() -> None:
    text = "Intro\n\n| A | b |\n|--|--|\n| 1 | **2** |\n| 3 |\n\nafter"
    assert extract_table(text) == [{"a": "1", "b": "2"}, {"a": "3", "b": ""}]
    assert extract_table("no table | here") == []
    reply = (
        "**Findings:** The auth_token_ttl is 60 s\nwhile clocks drift 90 s.\n"
        "- node-3 NTP off\nConfidence: high\n"
    )
    assert find_labelled_block(reply, "Findings") == (
        "The auth_token_ttl is 60 s\nwhile clocks drift 90 s.\n- node-3 NTP off"
    )
    assert find_labelled_block("Findings:\n\n- a\n- b\n\nMore prose", "findings") == "- a\n- b"
    assert find_labelled_block("nothing here", "Findings") is None
