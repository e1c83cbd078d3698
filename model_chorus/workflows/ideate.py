"""ideate: brainstorm with several models at once, then converge on what is worth doing.

Diverge: every brainstorm prompt runs in parallel. With ``--perspectives``
each perspective is its own prompt, dealt round-robin over the providers so
that every provider and every perspective is used at least once
(max(providers, perspectives) calls). Each call asks for ``num_ideas`` ideas
and its list is trimmed to that many.

Converge: the ideas are pooled, repeats removed (keyword overlap, see
``ideas.py``), clustered by theme (asked of the primary provider, with
fallbacks; the deterministic lexical clustering when the reply cannot be
used, when ``--no-model-clustering`` is given, or for fewer than three
ideas), and each cluster is scored on feasibility / impact / novelty with a
recommendation. Clustering and scoring are enrichments: when their call
fails or cannot be read the run still succeeds, with the fallback or null
scores and a warning. Only a brainstorm that yields no idea at all fails.

``--continue`` runs another round: new ideas that avoid the stored ones,
then everything is clustered and scored again.

Concurrent runs. Two ``--continue`` runs of one thread at once both keep their
round: a save merges onto the state stored at that moment (``merge_round`` in
``ideas.py``): the ideas and rounds another run stored meanwhile stay, this
run's new ideas are checked against them and numbered after them, and the
stored turn and the result show the ids as stored. The other run's ideas wait
in their own cluster, unscored, until the next round clusters everything again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from model_chorus.errors import InputError, ProviderError, WorkflowError
from model_chorus.events import EventKind
from model_chorus.models import GenerationResponse, Message, Role, Thread, WorkflowResult
from model_chorus.providers.base import ModelProvider
from model_chorus.wording import plural
from model_chorus.workflows.base import (
    Workflow,
    WorkflowInfo,
    WorkflowRequest,
    int_option,
    user_message,
)
from model_chorus.workflows.ideas import (
    CONCURRENT_THEME,
    SCORE_NAMES,
    Cluster,
    Idea,
    IdeateState,
    MergedRound,
    complete_clusters,
    deduplicate,
    lexical_clusters,
    merge_round,
    next_idea_number,
    recommend_by_scores,
)
from model_chorus.workflows.ideate_replies import (
    parse_clusters,
    parse_ideas,
    parse_recommendation,
    parse_scores,
)
from model_chorus.workflows.prompting import render_prompt
from model_chorus.workflows.registry import register
from model_chorus.workflows.requests import request_builder
from model_chorus.workflows.runner import RunOutcome

STATE_KEY = "ideate"
NUM_IDEAS_DEFAULT = 5
NUM_IDEAS_MAX = 20
PERSPECTIVES_MAX = 8
#: Below this many ideas a clustering call is not worth its cost.
MODEL_CLUSTERING_MIN_IDEAS = 3

BRAINSTORM_PROMPT = """\
Brainstorm ideas for the topic below.{perspective}

Propose exactly {num_ideas} distinct, concrete ideas. Give each a short title (at most
eight words) and one or two sentences saying what it is and why it helps.{guidance}{avoid}

Reply with a JSON object in a fenced code block, and nothing else:
```json
{{"ideas": [{{"title": "Short title", "description": "What it is and why it helps."}}]}}
```
If you cannot produce JSON, reply with a numbered markdown list instead, one idea
per item, written as "**Title**: description".

Topic: {topic}"""

CLUSTER_PROMPT = """\
Group these ideas about "{topic}" into themes. Put every idea in exactly one theme,
use between 2 and {max_clusters} themes, and name each theme in a few words.

Ideas:
{ideas}

Reply with a JSON object in a fenced code block, referring to ideas by their ids:
```json
{{"clusters": [{{"theme": "Short theme name", "idea_ids": ["I1", "I4"]}}]}}
```
If you cannot produce JSON, write one line per theme as "**Theme name**: I1, I4"."""

SCORE_PROMPT = """\
Score each theme of ideas about "{topic}" from 1 (low) to 5 (high) on:
- feasibility: how easy it is to do with ordinary effort,
- impact: how much it would help,
- novelty: how new or unusual it is.
Then recommend the one theme to pursue first, and say why.

Themes:
{clusters}

Reply with a JSON object in a fenced code block:
```json
{{"scores": [{{"cluster": "C1", "feasibility": 4, "impact": 5, "novelty": 2,
  "rationale": "One sentence."}}],
 "recommendation": {{"cluster": "C1", "reason": "Why this theme first."}}}}
```
If you cannot produce JSON, write one line per theme as
"C1: feasibility 4, impact 5, novelty 2 — rationale", then a line
"Recommendation: C1 — reason"."""


@dataclass(frozen=True)
class IdeateOptions:
    num_ideas: int = NUM_IDEAS_DEFAULT
    perspectives: tuple[str, ...] = ()
    model_clustering: bool = True

    @classmethod
    def from_request(cls, request: WorkflowRequest) -> IdeateOptions:
        options = request.options
        num_ideas = int_option(
            options,
            "num_ideas",
            flag="--num-ideas",
            default=NUM_IDEAS_DEFAULT,
            high=NUM_IDEAS_MAX,
            hint="Ask for fewer ideas per provider; use -p several times for more.",
        )
        return cls(
            num_ideas=num_ideas,
            perspectives=parse_perspectives(options.get("perspectives")),
            model_clustering=not options.get("no_model_clustering", False),
        )


def parse_perspectives(value: Any) -> tuple[str, ...]:
    """Split "cost, security,,UX" into ("cost", "security", "UX"); repeats (any case) go."""
    if not value:
        return ()
    parts = value if isinstance(value, list | tuple) else str(value).split(",")
    seen: dict[str, str] = {}
    for part in parts:
        name = " ".join(str(part).split())
        if name and name.lower() not in seen:
            seen[name.lower()] = name
    if len(seen) > PERSPECTIVES_MAX:
        raise InputError(
            f"At most {PERSPECTIVES_MAX} perspectives are supported (got {len(seen)}).",
            hint="Each perspective costs a model call; pick the ones that matter most.",
        )
    return tuple(seen.values())


def brainstorm_tasks(
    providers: list[ModelProvider], perspectives: tuple[str, ...]
) -> list[tuple[ModelProvider, str | None]]:
    """Deal perspectives round-robin over providers: every one of both is used at least once."""
    if not perspectives:
        return [(provider, None) for provider in providers]
    count = max(len(providers), len(perspectives))
    return [
        (providers[i % len(providers)], perspectives[i % len(perspectives)]) for i in range(count)
    ]


@register
class IdeateWorkflow(Workflow):
    info = WorkflowInfo(
        name="ideate",
        summary="Brainstorm with several models, then cluster, score and recommend.",
        description=(
            "Asks each provider (in parallel) for --num-ideas ideas, optionally from "
            "several --perspectives, pools them, removes repeats, clusters them by theme "
            "(asked of a model, with a deterministic keyword fallback) and scores each "
            "theme on feasibility, impact and novelty with a recommendation. "
            "--continue adds a round of new ideas and converges again."
        ),
        multi_provider=True,
        policy="parallel",
        example='model-chorus ideate "Ways to cut CI time" -p claude -p gemini -n 6',
        state="ideas, clusters, scores and rounds (key 'ideate')",
    )

    async def run(self, request: WorkflowRequest) -> WorkflowResult:
        options = IdeateOptions.from_request(request)
        thread = self.load_thread(request)
        stored = self.store.get_state(thread.id, STATE_KEY) if thread else None
        state = IdeateState.from_dict(stored)
        state.topic = state.topic or request.prompt
        known = {idea.id for idea in state.ideas}
        round_no = len(state.rounds) + 1
        run = _Run(self, request, options, state, round_no, thread)

        new_ideas, dropped = await run.brainstorm()
        state.ideas.extend(new_ideas)
        await run.cluster()
        await run.score()
        state.rounds.append(
            {
                "round": round_no,
                "prompt": request.prompt,
                "providers": [p.name for p in self.env.providers],
                "perspectives": list(options.perspectives),
                "num_ideas": options.num_ideas,
                "new_ideas": [idea.id for idea in new_ideas],
                "duplicates": len(dropped),
            }
        )

        continued = thread is not None
        thread = thread or self.new_thread(request)
        mine = MergedRound(state, new_ideas, [], [])
        result = self._result(thread.id, continued, mine, dropped, run)
        user = user_message(request, round=round_no)
        answer = Message(role=Role.ASSISTANT, content="")
        merges: list[MergedRound] = []

        def merge(current: dict[str, Any] | None) -> dict[str, Any]:
            merged = merge_round(IdeateState.from_dict(current), state, known)
            merges.append(merged)
            # The stored turn shows the ideas under the ids they are stored with.
            number = merged.state.rounds[-1]["round"]
            user.metadata["round"] = number
            answer.content = summary_markdown(merged.state)
            answer.metadata = {
                "round": number,
                "providers": sorted({r.provider for r in run.responses}),
                "ideas": len(merged.state.ideas),
                "clusters": len(merged.state.clusters),
            }
            return merged.state.to_dict()

        self.save_turn(
            result, thread, [user, answer], create=not continued, state_key=STATE_KEY, merge=merge
        )
        return self._result(thread.id, continued, merges[-1], dropped, run)

    def _result(
        self,
        thread_id: str,
        continued: bool,
        merged: MergedRound,
        dropped: list[tuple[Idea, Idea]],
        run: _Run,
    ) -> WorkflowResult:
        state = merged.state
        warnings = list(run.warnings)
        if merged.others:
            ids = ", ".join(idea.id for idea in merged.others)
            warnings.append(
                f"Another run added {len(merged.others)} idea(s) to this thread meanwhile "
                f"({ids}); they are under '{CONCURRENT_THEME}' until the next round "
                "clusters them."
            )
        if merged.repeats:
            warnings.append(
                f"{len(merged.repeats)} of this round's ideas repeated ideas another run "
                "stored meanwhile; they were merged into those."
            )
        data = state.to_dict()
        data.update(
            round=state.rounds[-1]["round"],
            new_idea_ids=[idea.id for idea in merged.new_ideas],
            duplicates_dropped=[
                {"title": idea.title, "provider": idea.provider, "duplicate_of": original.id}
                for idea, original in [*dropped, *merged.repeats]
            ],
        )
        return WorkflowResult(
            workflow=self.info.name,
            thread_id=thread_id,
            content=summary_markdown(state),
            responses=run.responses,
            failures=RunOutcome(errors=run.errors).failures,
            data=data,
            warnings=warnings,
            continued=continued,
        )


class _Run:
    """One round's steps and what they gather (responses, failures, warnings)."""

    def __init__(
        self,
        workflow: IdeateWorkflow,
        request: WorkflowRequest,
        options: IdeateOptions,
        state: IdeateState,
        round_no: int,
        thread: Thread | None,
    ) -> None:
        self.wf = workflow
        self.thread = thread
        self.request = request
        self.options = options
        self.state = state
        self.round_no = round_no
        self.responses: list[GenerationResponse] = []
        self.errors: list[ProviderError] = []
        self.warnings: list[str] = []
        self.primary = workflow.env.providers[0]

    # -- diverge ----------------------------------------------------------------------

    async def brainstorm(self) -> tuple[list[Idea], list[tuple[Idea, Idea]]]:
        providers = self.wf.env.providers
        tasks = brainstorm_tasks(providers, self.options.perspectives)
        history = self.wf.history(self.thread, self.request)
        names = ", ".join(dict.fromkeys(p.name for p in providers))
        self.wf.emit(
            EventKind.STEP,
            f"round {self.round_no}: brainstorming {plural(self.options.num_ideas, 'idea')} "
            f"per call ({plural(len(tasks), 'call')}: {names})…",
        )

        def prompt_for(perspective: str | None) -> str:
            text = self._brainstorm_text(perspective)
            return render_prompt(
                text,
                history=history.messages,
                omitted=history.omitted,
                attachments=self.request.attachments,
            )

        outcomes = await asyncio.gather(
            *(
                self.wf.env.runner.parallel(
                    [provider], request_builder(self.request, prompt_for(persp), self.primary)
                )
                for provider, persp in tasks
            )
        )
        combined = RunOutcome()
        proposed: list[Idea] = []
        for (_, perspective), outcome in zip(tasks, outcomes, strict=True):
            combined.errors.extend(outcome.errors)
            combined.responses.extend(outcome.responses)
            for response in outcome.responses:
                proposed.extend(self._read_ideas(response, perspective))
        self.errors.extend(combined.errors)
        combined.require(1, what="ideate brainstorm")
        self.responses.extend(combined.responses)

        kept, dropped = deduplicate(self.state.ideas, proposed)
        # Numbered after de-duplication, so a round's ids have no gaps.
        for n, idea in enumerate(kept, start=next_idea_number(self.state.ideas)):
            idea.id = f"I{n}"
        if not kept and not self.state.ideas:
            who = ", ".join(r.provider for r in combined.responses)
            raise WorkflowError(
                f"no ideas could be read from the replies of {who}.",
                step="brainstorm",
                hint="Run again, or try other providers with -p.",
            )
        if not kept:
            self.warnings.append(
                f"Round {self.round_no} brought no new ideas: every idea repeated an earlier one."
            )
        return kept, dropped

    def _brainstorm_text(self, perspective: str | None) -> str:
        persp = (
            f"\nLook at it from the {perspective} perspective: every idea should "
            f"address {perspective}."
            if perspective
            else ""
        )
        guidance = ""
        if self.round_no > 1 and self.request.prompt.strip() != self.state.topic.strip():
            guidance = f"\n\nGuidance for this round: {self.request.prompt}"
        avoid = ""
        if self.state.ideas:
            listed = "\n".join(f"- {idea.title}" for idea in self.state.ideas)
            avoid = (
                "\n\nThese ideas were already proposed; do not repeat them or restate them "
                f"in other words, find new directions:\n{listed}"
            )
        return BRAINSTORM_PROMPT.format(
            perspective=persp,
            num_ideas=self.options.num_ideas,
            guidance=guidance,
            avoid=avoid,
            topic=self.state.topic,
        )

    def _read_ideas(self, response: GenerationResponse, perspective: str | None) -> list[Idea]:
        parsed = parse_ideas(response.content)
        where = response.provider + (f" ({perspective})" if perspective else "")
        if parsed.source == "none":
            self.warnings.append(f"{where}: no ideas could be read from the reply.")
        elif parsed.source == "paragraphs":
            self.warnings.append(
                f"{where}: the reply had no JSON or list of ideas; each paragraph was taken "
                "as one idea."
            )
        return [
            Idea(
                id="",
                title=item.title,
                description=item.description,
                provider=response.provider,
                perspective=perspective,
                round=self.round_no,
            )
            for item in parsed.items[: self.options.num_ideas]
        ]

    # -- converge ---------------------------------------------------------------------

    async def cluster(self) -> None:
        ideas = self.state.ideas
        if not self.options.model_clustering or len(ideas) < MODEL_CLUSTERING_MIN_IDEAS:
            self._lexical()
            return
        self.wf.emit(
            EventKind.STEP, f"clustering {plural(len(ideas), 'idea')} ({self.primary.name})…"
        )
        listed = "\n".join(f"{idea.id}: {_idea_line(idea)}" for idea in ideas)
        prompt = CLUSTER_PROMPT.format(
            topic=self.state.topic, max_clusters=max(2, min(7, len(ideas) // 2)), ideas=listed
        )
        response = await self._converge_call(prompt, "clustering")
        clusters = parse_clusters(response.content, ideas) if response else None
        if response and clusters is None:
            self.warnings.append(
                f"Clustering: the reply of {response.provider} named no clusters of known "
                "ideas; the ideas were clustered by shared keywords instead."
            )
        if clusters is None:
            self._lexical()
            return
        complete, leftovers = complete_clusters(clusters, ideas)
        if leftovers:
            self.warnings.append(
                f"Clustering: {leftovers} idea(s) were in no cluster of the reply; they are "
                "listed under 'Other ideas'."
            )
        self.state.clusters = complete
        self.state.clustering = "model"

    def _lexical(self) -> None:
        self.state.clusters = lexical_clusters(self.state.ideas)
        self.state.clustering = "lexical"

    async def score(self) -> None:
        clusters = self.state.clusters
        self.wf.emit(
            EventKind.STEP, f"scoring {plural(len(clusters), 'cluster')} ({self.primary.name})…"
        )
        by_id = {idea.id: idea for idea in self.state.ideas}
        listed = "\n".join(
            f"{c.id}: {c.theme} — ideas: " + "; ".join(by_id[i].title for i in c.idea_ids)
            for c in clusters
        )
        prompt = SCORE_PROMPT.format(topic=self.state.topic, clusters=listed)
        response = await self._converge_call(prompt, "scoring")
        text = response.content if response else ""
        scores = parse_scores(text, clusters)
        missing: list[str] = []
        for cluster in clusters:
            found = scores.get(cluster.id)
            cluster.scores = dict(found.scores) if found else dict.fromkeys(SCORE_NAMES)
            cluster.rationale = found.rationale if found else None
            gaps = [name for name in SCORE_NAMES if cluster.scores.get(name) is None]
            if len(gaps) == len(SCORE_NAMES):
                missing.append(f"{cluster.id} (all)")
            elif gaps:
                missing.append(f"{cluster.id} ({', '.join(gaps)})")
        if response and missing:
            self.warnings.append(
                "Scoring: no usable 1–5 score in the reply for " + ", ".join(missing) + "; "
                "those scores are null."
            )
        self._recommend(text, response is not None)

    def _recommend(self, text: str, answered: bool) -> None:
        clusters = self.state.clusters
        rec = parse_recommendation(text, clusters) if answered else None
        if rec is not None and rec.cluster_id is not None:
            self.state.recommendation = rec.to_dict(clusters, "model")
            return
        best = recommend_by_scores(clusters)
        if best is None:
            self.state.recommendation = None
            if answered:
                self.warnings.append(
                    "No recommendation: the reply named no theme and gave no scores."
                )
            return
        reason = f"Highest total score ({best.total:g} of {len(SCORE_NAMES) * 5})."
        self.state.recommendation = {
            "cluster": best.id,
            "theme": best.theme,
            "reason": reason,
            "source": "scores",
        }
        if answered:
            self.warnings.append(
                f"The reply named no recommended theme; {best.id} was chosen by its scores."
            )

    async def _converge_call(self, prompt: str, step: str) -> GenerationResponse | None:
        """Primary first, then the others; None (with a warning) when every one fails."""
        outcome = await self.wf.env.runner.sequential(
            self.wf.env.providers, request_builder(self.request, prompt, self.primary)
        )
        self.errors.extend(outcome.errors)
        if not outcome.responses:
            reasons = "; ".join(f"{e.provider}: {e.message}" for e in outcome.errors)
            fallback = "keyword clustering was used" if step == "clustering" else "scores are null"
            self.warnings.append(f"The {step} step failed ({reasons}); {fallback}.")
            return None
        response = outcome.responses[0]
        self.responses.append(response)
        return response


def _idea_line(idea: Idea) -> str:
    return f"{idea.title} — {idea.description}" if idea.description else idea.title


def summary_markdown(state: IdeateState) -> str:
    """The headline answer: recommendation first, then each theme with its scores and ideas."""
    by_id = {idea.id: idea for idea in state.ideas}
    lines: list[str] = []
    rec = state.recommendation
    if rec:
        theme = (
            f"{rec.get('cluster')} · {rec.get('theme')}" if rec.get("theme") else rec.get("cluster")
        )
        lines += [
            "## Recommendation",
            "",
            f"**{theme}** — {rec.get('reason') or ''}".rstrip(" —"),
            "",
        ]
    lines += [f"## Themes ({len(state.clusters)}) from {len(state.ideas)} ideas", ""]
    for cluster in state.clusters:
        lines.append(f"### {cluster.id} · {cluster.theme}")
        lines.append(f"_{score_line(cluster)}_")
        if cluster.rationale:
            lines.append(cluster.rationale)
        lines.append("")
        for idea_id in cluster.idea_ids:
            idea = by_id.get(idea_id)
            if idea is None:
                continue
            who = ", ".join(filter(None, [idea.provider, *idea.also_from]))
            desc = f": {idea.description}" if idea.description else ""
            lines.append(f"- **{idea.title}**{desc} ({idea.id}, {who or 'unknown'})")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def score_line(cluster: Cluster) -> str:
    parts = [f"{name} {_fmt(cluster.scores.get(name))}" for name in SCORE_NAMES]
    return " · ".join(parts)


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"
