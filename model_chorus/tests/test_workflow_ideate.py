"""ideate over in-process providers and a temporary store.

A routed provider answers by the step it is asked for (brainstorm, clustering,
scoring), so each test can check what each step received, what was parsed
from the replies, what was stored and how a second round goes on.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import pytest

from model_chorus.errors import (
    AllProvidersFailedError,
    InputError,
    ProviderError,
    ProviderRateLimitError,
    StoreError,
    TurnNotSavedError,
    WorkflowError,
)
from model_chorus.events import EventKind, WorkflowEvent
from model_chorus.models import GenerationRequest, GenerationResponse, Role
from model_chorus.providers.base import ModelProvider
from model_chorus.store.database import ConversationDatabase
from model_chorus.tests.other_run import Interfering, other_store
from model_chorus.tests.store_faults import disk_full_after
from model_chorus.tests.workflow_helpers import workflow_env
from model_chorus.workflows.base import WorkflowRequest
from model_chorus.workflows.ideas import CONCURRENT_THEME, IdeateState, merge_round
from model_chorus.workflows.ideate import STATE_KEY, IdeateWorkflow, brainstorm_tasks

TOPIC = "Ways to cut CI time"


def ideas_json(*titles: str) -> str:
    items = [{"title": t, "description": f"{t} details."} for t in titles]
    return "Here you go:\n```json\n" + json.dumps({"ideas": items}) + "\n```"


CLAUDE_IDEAS = ideas_json("Cache dependencies", "Shard the test suite", "Skip docs builds")
GEMINI_IDEAS = ideas_json("Dependency caching", "Run tests in parallel", "Bigger runners", "Extra")
CLUSTERS = (
    '```json\n{"clusters": [{"theme": "Caching", "idea_ids": ["I1"]}, '
    '{"theme": "Speed", "idea_ids": ["I2", "I4", "I5"]}, '
    '{"theme": "Less work", "idea_ids": ["I3"]}]}\n```'
)
SCORES = (
    '```json\n{"scores": [{"cluster": "C1", "feasibility": 5, "impact": 3, "novelty": 1, '
    '"rationale": "Cheap."}, {"cluster": "C2", "feasibility": 3, "impact": 5, "novelty": 2}, '
    '{"cluster": "C3", "feasibility": 4, "impact": 2, "novelty": 2}], '
    '"recommendation": {"cluster": "C2", "reason": "Biggest win."}}\n```'
)


def step_of(prompt: str) -> str:
    if "Brainstorm ideas" in prompt:
        return "brainstorm"
    if "Group these ideas" in prompt:
        return "cluster"
    if "Score each theme" in prompt:
        return "score"
    raise AssertionError(f"unexpected prompt: {prompt[:80]}")


class Routed:
    """Answers each step from its own script (the last reply repeats); records every call.

    A reply that is an exception class is raised as a provider failure.
    """

    def __init__(self, name: str, delay: float = 0.0, **replies: Any) -> None:
        self.name = name
        self.delay = delay
        self.replies = {k: v if isinstance(v, list) else [v] for k, v in replies.items()}
        self.calls: list[tuple[str, GenerationRequest]] = []
        self.spans: list[tuple[str, str]] = []
        self.log: list[str] | None = None

    def prompts(self, step: str) -> list[str]:
        return [r.prompt for s, r in self.calls if s == step]

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        step = step_of(request.prompt)
        seen = sum(1 for s, _ in self.calls if s == step)
        self.calls.append((step, request))
        if self.log is not None:
            self.log.append(f"start {self.name}")
        await asyncio.sleep(self.delay)
        if self.log is not None:
            self.log.append(f"end {self.name}")
        script = self.replies.get(step) or [f"no {step} reply scripted"]
        reply = script[min(seen, len(script) - 1)]
        if isinstance(reply, type) and issubclass(reply, ProviderError):
            raise reply(f"{self.name} failed", provider=self.name)
        return GenerationResponse(content=reply, provider=self.name, model=request.model)


def make(
    store: ConversationDatabase,
    providers: Sequence[ModelProvider],
    events: list[WorkflowEvent] | None = None,
) -> IdeateWorkflow:
    return IdeateWorkflow(workflow_env(store, providers, events=events))


def ask(prompt: str = TOPIC, thread_id: str | None = None, **options: Any) -> WorkflowRequest:
    return WorkflowRequest(prompt=prompt, thread_id=thread_id, options=options)


async def test_two_providers_brainstorm_then_converge(store: ConversationDatabase) -> None:
    claude = Routed("claude", brainstorm=CLAUDE_IDEAS, cluster=CLUSTERS, score=SCORES)
    gemini = Routed("gemini", brainstorm=GEMINI_IDEAS)
    events: list[WorkflowEvent] = []

    result = await make(store, [claude, gemini], events).run(ask(num_ideas=3))

    # Both were asked for 3 ideas on the topic; gemini's fourth idea was trimmed.
    for provider in (claude, gemini):
        [prompt] = provider.prompts("brainstorm")
        assert "exactly 3 distinct" in prompt and TOPIC in prompt
    ideas = {i["id"]: i for i in result.data["ideas"]}
    assert [(i, d["title"], d["provider"]) for i, d in ideas.items()] == [
        ("I1", "Cache dependencies", "claude"),
        ("I2", "Shard the test suite", "claude"),
        ("I3", "Skip docs builds", "claude"),
        ("I4", "Run tests in parallel", "gemini"),
        ("I5", "Bigger runners", "gemini"),
    ]
    # gemini's "Dependency caching" repeated claude's idea: dropped, credited.
    assert ideas["I1"]["also_from"] == ["gemini"]
    assert result.data["duplicates_dropped"] == [
        {"title": "Dependency caching", "provider": "gemini", "duplicate_of": "I1"}
    ]
    # Only the primary converges, and it saw every pooled idea and then every cluster.
    assert gemini.prompts("cluster") == [] and gemini.prompts("score") == []
    [cluster_prompt] = claude.prompts("cluster")
    for line in ("I1: Cache dependencies", "I4: Run tests in parallel", "I5: Bigger runners"):
        assert line in cluster_prompt
    [score_prompt] = claude.prompts("score")
    assert (
        "C2: Speed — ideas: Shard the test suite; Run tests in parallel; Bigger runners"
        in score_prompt
    )

    assert result.data["clustering"] == "model"
    clusters = {c["id"]: c for c in result.data["clusters"]}
    assert clusters["C1"]["scores"] == {"feasibility": 5, "impact": 3, "novelty": 1}
    assert clusters["C1"]["rationale"] == "Cheap."
    assert clusters["C2"]["total"] == 10
    assert result.data["recommendation"] == {
        "cluster": "C2",
        "theme": "Speed",
        "reason": "Biggest win.",
        "source": "model",
    }
    assert result.warnings == [] and result.failures == []
    assert "**C2 · Speed** — Biggest win." in result.content
    assert [r.provider for r in result.responses] == ["claude", "gemini", "claude", "claude"]
    steps = [e.message for e in events if e.kind == EventKind.STEP]
    assert steps[0].startswith("round 1: brainstorming 3 ideas per call (2 calls: claude, gemini)")
    assert steps[1:] == ["clustering 5 ideas (claude)…", "scoring 3 clusters (claude)…"]

    # Stored once: the user's turn and the summary; state holds ideas, clusters and scores.
    messages = store.get_messages(result.thread_id)
    assert [(m.role, m.metadata.get("round")) for m in messages] == [
        (Role.USER, 1),
        (Role.ASSISTANT, 1),
    ]
    assert messages[1].content == result.content
    state = store.get_state(result.thread_id, STATE_KEY)
    assert state is not None
    assert state["topic"] == TOPIC
    assert [i["id"] for i in state["ideas"]] == ["I1", "I2", "I3", "I4", "I5"]
    assert state["clusters"] == result.data["clusters"]
    assert state["rounds"][0]["new_ideas"] == ["I1", "I2", "I3", "I4", "I5"]
    assert state["rounds"][0]["duplicates"] == 1


async def test_brainstorm_calls_overlap(store: ConversationDatabase) -> None:
    log: list[str] = []
    providers = []
    for name in ("claude", "gemini", "codex"):
        provider = Routed(name, delay=0.05, brainstorm=ideas_json(f"{name} idea"), score=SCORES)
        provider.log = log
        providers.append(provider)
    await make(store, providers).run(ask(no_model_clustering=True))
    brainstorm = log[:6]
    # Every provider started before any of them finished: the calls ran side by side.
    assert sorted(brainstorm[:3]) == ["start claude", "start codex", "start gemini"]
    assert all(entry.startswith("end") for entry in brainstorm[3:])


def test_perspectives_are_dealt_round_robin() -> None:
    a, b = Routed("a"), Routed("b")
    dealt = brainstorm_tasks([a, b], ("cost", "security", "ux"))
    assert [(p.name, q) for p, q in dealt] == [("a", "cost"), ("b", "security"), ("a", "ux")]
    dealt = brainstorm_tasks([a, b], ("cost",))
    assert [(p.name, q) for p, q in dealt] == [("a", "cost"), ("b", "cost")]
    assert [(p.name, q) for p, q in brainstorm_tasks([a, b], ())] == [("a", None), ("b", None)]


async def test_each_perspective_is_its_own_prompt(store: ConversationDatabase) -> None:
    claude = Routed(
        "claude",
        brainstorm=[ideas_json("Cheaper runners"), ideas_json("Signed artifacts")],
        score=SCORES,
    )
    result = await make(store, [claude]).run(
        ask(perspectives="cost, security,,COST", no_model_clustering=True)
    )
    prompts = claude.prompts("brainstorm")
    assert len(prompts) == 2
    assert "from the cost perspective" in prompts[0]
    assert "from the security perspective" in prompts[1]
    assert [(i["title"], i["perspective"]) for i in result.data["ideas"]] == [
        ("Cheaper runners", "cost"),
        ("Signed artifacts", "security"),
    ]
    assert result.data["rounds"][0]["perspectives"] == ["cost", "security"]


async def test_no_model_clustering_uses_the_lexical_fallback(store: ConversationDatabase) -> None:
    claude = Routed(
        "claude",
        brainstorm=ideas_json("Cache pip dependencies", "Cache docker layers", "Shard tests"),
        score=SCORES,
    )
    result = await make(store, [claude]).run(ask(no_model_clustering=True))
    assert claude.prompts("cluster") == []
    assert result.data["clustering"] == "lexical"
    assert [c["idea_ids"] for c in result.data["clusters"]] == [["I1", "I2"], ["I3"]]


async def test_unreadable_clustering_falls_back_with_a_warning(store: ConversationDatabase) -> None:
    claude = Routed(
        "claude",
        brainstorm=ideas_json("Cache pip dependencies", "Cache docker layers", "Shard tests"),
        cluster="These ideas are all great and belong together.",
        score=SCORES,
    )
    result = await make(store, [claude]).run(ask())
    assert len(claude.prompts("cluster")) == 1
    assert result.data["clustering"] == "lexical"
    assert any("clustered by shared keywords" in w for w in result.warnings)


async def test_missing_scores_are_null_and_the_recommendation_follows_scores(
    store: ConversationDatabase,
) -> None:
    claude = Routed(
        "claude",
        brainstorm=ideas_json("Cache pip dependencies", "Cache docker layers", "Shard tests"),
        score="C1: feasibility 4, impact 4\nC2 looks risky; hard to say.",
    )
    result = await make(store, [claude]).run(ask(no_model_clustering=True))
    c1, c2 = result.data["clusters"]
    assert c1["scores"] == {"feasibility": 4, "impact": 4, "novelty": None}
    assert c2["scores"] == {"feasibility": None, "impact": None, "novelty": None}
    assert result.data["recommendation"]["cluster"] == "C1"
    assert result.data["recommendation"]["source"] == "scores"
    assert any("C1 (novelty), C2 (all)" in w for w in result.warnings)
    assert any("chosen by its scores" in w for w in result.warnings)


async def test_a_failed_scoring_call_degrades_to_null_scores(store: ConversationDatabase) -> None:
    claude = Routed(
        "claude",
        brainstorm=ideas_json("Cache pip dependencies", "Shard tests"),
        score=ProviderRateLimitError,
    )
    result = await make(store, [claude]).run(ask())
    assert all(v is None for c in result.data["clusters"] for v in c["scores"].values())
    assert result.data["recommendation"] is None
    assert [(f.provider, f.kind) for f in result.failures] == [("claude", "rate_limited")]
    assert any("scoring step failed" in w for w in result.warnings)


async def test_a_failed_brainstorm_provider_is_reported_not_hidden(
    store: ConversationDatabase,
) -> None:
    claude = Routed("claude", brainstorm=CLAUDE_IDEAS, cluster=CLUSTERS, score=SCORES)
    gemini = Routed("gemini", brainstorm=ProviderRateLimitError)
    result = await make(store, [claude, gemini]).run(ask())
    assert [i["provider"] for i in result.data["ideas"]] == ["claude"] * 3
    assert [(f.provider, f.kind) for f in result.failures] == [("gemini", "rate_limited")]


async def test_every_brainstorm_failing_stores_nothing(store: ConversationDatabase) -> None:
    claude = Routed("claude", brainstorm=ProviderRateLimitError)
    gemini = Routed("gemini", brainstorm=ProviderRateLimitError)
    with pytest.raises(AllProvidersFailedError) as caught:
        await make(store, [claude, gemini]).run(ask())
    assert "brainstorm" in caught.value.message
    assert store.list_threads() == []


async def test_replies_without_ideas_fail_the_brainstorm_step(store: ConversationDatabase) -> None:
    claude = Routed("claude", brainstorm="")
    with pytest.raises(WorkflowError) as caught:
        await make(store, [claude]).run(ask())
    assert caught.value.step == "brainstorm"
    assert store.list_threads() == []


async def test_continue_adds_new_ideas_and_reclusters_everything(
    store: ConversationDatabase,
) -> None:
    claude = Routed(
        "claude",
        brainstorm=[
            ideas_json("Cache dependencies", "Shard the test suite"),
            ideas_json("Shard the test suite", "Remote build cache", "Flaky test quarantine"),
        ],
        score=SCORES,
    )
    first = await make(store, [claude]).run(ask(no_model_clustering=True))
    second = await make(store, [claude]).run(
        ask("Focus on test reliability", thread_id=first.thread_id, no_model_clustering=True)
    )

    prompt = claude.prompts("brainstorm")[1]
    assert "Guidance for this round: Focus on test reliability" in prompt
    assert "already proposed" in prompt
    assert "- Cache dependencies\n- Shard the test suite" in prompt
    assert f"Topic: {TOPIC}" in prompt
    assert "<conversation_history>" in prompt  # the first round's turns went along
    assert second.continued and second.thread_id == first.thread_id
    assert second.data["round"] == 2
    assert second.data["new_idea_ids"] == ["I3", "I4"]
    assert [i["title"] for i in second.data["ideas"]] == [
        "Cache dependencies",
        "Shard the test suite",
        "Remote build cache",
        "Flaky test quarantine",
    ]
    assert second.data["duplicates_dropped"][0]["duplicate_of"] == "I2"
    clustered = sorted(i for c in second.data["clusters"] for i in c["idea_ids"])
    assert clustered == ["I1", "I2", "I3", "I4"]
    state = store.get_state(first.thread_id, STATE_KEY)
    assert state is not None and [r["round"] for r in state["rounds"]] == [1, 2]
    assert len(store.get_messages(first.thread_id)) == 4


async def test_model_flag_reaches_the_primary_only(store: ConversationDatabase) -> None:
    claude = Routed("claude", brainstorm=CLAUDE_IDEAS, cluster=CLUSTERS, score=SCORES)
    gemini = Routed("gemini", brainstorm=GEMINI_IDEAS)
    request = ask()
    request.model = "opus"
    await make(store, [claude, gemini]).run(request)
    assert {r.model for _, r in claude.calls} == {"opus"}
    assert {r.model for _, r in gemini.calls} == {None}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"num_ideas": 0}, "--num-ideas"),
        ({"num_ideas": 21}, "--num-ideas"),
        ({"perspectives": ",".join(f"p{i}" for i in range(9))}, "perspectives"),
    ],
)
async def test_bad_options_are_input_errors(
    store: ConversationDatabase, options: dict[str, Any], message: str
) -> None:
    claude = Routed("claude")
    with pytest.raises(InputError, match=message):
        await make(store, [claude]).run(ask(**options))
    assert claude.calls == []


async def test_a_prose_reply_is_read_by_paragraphs_with_a_warning(
    store: ConversationDatabase,
) -> None:
    claude = Routed("claude", brainstorm=CLAUDE_IDEAS, score=SCORES)
    gemini = Routed(
        "gemini", brainstorm="Bigger machines would help.\n\nSo would fewer integration tests."
    )
    result = await make(store, [claude, gemini]).run(ask(no_model_clustering=True))
    from_gemini = [i["title"] for i in result.data["ideas"] if i["provider"] == "gemini"]
    assert from_gemini == ["Bigger machines would help.", "So would fewer integration tests."]
    assert result.warnings[0] == (
        "gemini: the reply had no JSON or list of ideas; each paragraph was taken as one idea."
    )


async def test_two_rounds_at_once_both_keep_their_ideas(store: ConversationDatabase) -> None:
    first_ideas = ideas_json("Cache dependencies", "Shard the test suite")
    claude = Routed("claude", brainstorm=first_ideas, score=SCORES)
    first = await make(store, [claude]).run(ask(no_model_clustering=True))
    other_db = other_store(store.path)
    gemini = Routed(
        "gemini", brainstorm=ideas_json("Bigger runners", "Nightly full suite"), score=SCORES
    )
    other = make(other_db, [gemini])
    # The other run stores its whole round while this run brainstorms.
    mine = Routed(
        "claude",
        brainstorm=ideas_json("Remote build cache", "Flaky test quarantine", "Bigger runners"),
        score=SCORES,
    )
    interfering = Interfering(
        mine, lambda: other.run(ask("More", thread_id=first.thread_id, no_model_clustering=True))
    )
    try:
        result = await make(store, [interfering]).run(
            ask("Even more", thread_id=first.thread_id, no_model_clustering=True)
        )
    finally:
        other_db.close()

    state = store.get_state(first.thread_id, STATE_KEY)
    assert state is not None
    titles = {i["id"]: (i["title"], i["round"]) for i in state["ideas"]}
    assert titles == {
        "I1": ("Cache dependencies", 1),
        "I2": ("Shard the test suite", 1),
        "I3": ("Bigger runners", 2),  # the other run's, stored first
        "I4": ("Nightly full suite", 2),
        "I5": ("Remote build cache", 3),  # this run's, numbered after them
        "I6": ("Flaky test quarantine", 3),
    }
    assert [(r["round"], r["new_ideas"]) for r in state["rounds"]] == [
        (1, ["I1", "I2"]),
        (2, ["I3", "I4"]),
        (3, ["I5", "I6"]),
    ]
    assert state["ideas"][2]["also_from"] == ["claude"]  # this run's repeat of I3
    # Every idea in exactly one cluster; the other run's unclustered one waits in its own.
    placed = sorted(i for c in state["clusters"] for i in c["idea_ids"])
    assert placed == ["I1", "I2", "I3", "I4", "I5", "I6"]
    assert state["clusters"][-1]["theme"] == CONCURRENT_THEME
    assert state["clusters"][-1]["idea_ids"] == ["I4"]
    # The result and the stored turn show the ids as stored.
    assert result.data["round"] == 3 and result.data["new_idea_ids"] == ["I5", "I6"]
    assert {k: v for k, v in result.data.items() if k in state} == state
    assert any("Another run added 2 idea(s)" in w and "(I3, I4)" in w for w in result.warnings)
    assert any("1 of this round's ideas repeated" in w for w in result.warnings)
    messages = store.get_messages(first.thread_id)
    assert [m.metadata.get("round") for m in messages] == [1, 1, 2, 2, 3, 3]
    assert messages[-1].content == result.content and "(I5, claude)" in result.content


def test_merging_a_round_onto_an_unchanged_state_changes_nothing() -> None:
    start = IdeateState.from_dict(
        {"topic": "T", "ideas": [{"id": "I1", "title": "Cache"}], "rounds": [{"round": 1}]}
    )
    mine = IdeateState.from_dict(start.to_dict())
    mine.ideas[0].also_from.append("gemini")
    mine.ideas += IdeateState.from_dict(
        {"ideas": [{"id": "I2", "title": "Shard tests", "round": 2}]}
    ).ideas
    mine.rounds.append({"round": 2, "new_ideas": ["I2"], "duplicates": 1})
    mine.clusters = IdeateState.from_dict(
        {"clusters": [{"id": "C1", "theme": "All", "idea_ids": ["I1", "I2"]}]}
    ).clusters

    merged = merge_round(start, mine, {"I1"})

    assert merged.state.to_dict() == mine.to_dict()
    assert ([i.id for i in merged.new_ideas], merged.repeats, merged.others) == (["I2"], [], [])


async def test_a_round_that_cannot_be_saved_still_returns_its_ideas(
    store: ConversationDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    claude = Routed("claude", brainstorm=CLAUDE_IDEAS, score=SCORES)
    first = await make(store, [claude]).run(ask(no_model_clustering=True))
    before = store.get_messages(first.thread_id)
    disk_full_after(monkeypatch)
    again = Routed("claude", brainstorm=ideas_json("Remote build cache"), score=SCORES)

    with pytest.raises(TurnNotSavedError) as caught:
        await make(store, [again]).run(
            ask("More ideas", thread_id=first.thread_id, no_model_clustering=True)
        )

    error = caught.value
    assert (error.kind, error.thread_stored) == ("not_saved", True)
    assert isinstance(error.cause, StoreError)
    assert error.result.data["new_idea_ids"] == ["I4"]
    assert "Remote build cache" in error.result.content
    assert store.get_messages(first.thread_id) == before
    state = store.get_state(first.thread_id, STATE_KEY)
    assert state is not None and len(state["rounds"]) == 1
