"""consensus: ask several models the same question at once and combine their answers.

All providers are asked in parallel (wall time follows the slowest one), then
the answers are combined by a strategy:

* ``all_responses`` (default) — every answer, labelled with its provider.
* ``first_valid`` — the first non-empty answer to arrive; the providers still
  working are cancelled then, so wall time follows the fastest good answer.
  With ``--min-responses N`` it waits for N non-empty answers, takes the first.
* ``majority`` / ``weighted`` — a second round in which every model that
  answered votes for the best of the anonymised answers (A, B, C ...); the
  plurality wins, ``weighted`` counting each vote with the voter's configured
  ``weight``. Ties are reported, never broken silently. Which answer gets which
  label (and so is read first) is shuffled per thread and turn, with a seed, so
  no provider is always "A".
* ``synthesize`` — one provider (``--synthesizer``, default the first) writes a
  single answer naming where the models agree and where they differ.

``all_responses`` is the default because it needs no extra model call, hides
no answer and cannot fail after the answers are in; the other strategies are
one option away, and a continued thread keeps the strategy it last used.

Concurrent runs. The state (key ``consensus``) is the strategy last used and a
list of per-turn summaries, so merging is appending: a save appends this run's
summary to the turns stored at that moment (numbered after them) and sets the
strategy to this run's. Two ``--continue`` runs of one thread at once both keep
their turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from model_chorus.errors import InputError, WorkflowError
from model_chorus.events import EventKind
from model_chorus.models import (
    GenerationResponse,
    Message,
    ProviderFailure,
    Role,
    WorkflowResult,
)
from model_chorus.providers.base import ModelProvider
from model_chorus.workflows.base import (
    Workflow,
    WorkflowInfo,
    WorkflowRequest,
    int_option,
    user_message,
)
from model_chorus.workflows.prompting import render_prompt
from model_chorus.workflows.registry import register
from model_chorus.workflows.replies import find_section_items
from model_chorus.workflows.requests import request_builder
from model_chorus.workflows.voting import (
    Ballot,
    candidate_labels,
    parse_ballot,
    shuffled_labels,
    tally,
)

STRATEGIES = ("all_responses", "first_valid", "majority", "weighted", "synthesize")
DEFAULT_STRATEGY = "all_responses"
STATE_KEY = "consensus"

VOTE_PROMPT = """\
Several assistants answered the question below independently. Their answers are \
labelled {labels}, in no particular order and without names.

<question>
{question}
</question>

{candidates}

Pick the single best answer: the most correct, complete and useful one. One of them \
may be your own; judge on merit only.

Reply with only this JSON object in a fenced block, your choice in "vote" \
(one of {labels}):

```json
{{"vote": "A", "reason": "one or two sentences"}}
```
"""

SYNTHESIS_PROMPT = """\
Several AI models answered the question below independently. Write the single best \
answer to the question, combining their strongest points, then say where the models \
agree and where they differ.

<question>
{question}
</question>

{answers}

Use this Markdown layout:

## Answer
The combined answer.

## Agreement
- A point the models share (name them).

## Differences
- Where they differ: who said what, and which view is better supported.
"""

_AGREEMENT_LABELS = ("Agreement", "Agreements", "Where they agree", "Where the models agree")
_DIFFERENCE_LABELS = (
    "Differences",
    "Difference",
    "Disagreements",
    "Where they differ",
    "Where the models differ",
)


@dataclass(frozen=True)
class Candidate:
    """One provider's non-empty answer, labelled A, B, C ... (in provider order unless
    the answers go to a vote)."""

    label: str
    response: GenerationResponse

    @property
    def provider(self) -> str:
        return self.response.provider

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "provider": self.response.provider,
            "model": self.response.model,
            "content": self.response.content,
        }


@dataclass
class _Run:
    """What one run collects on its way: every response, failure and warning."""

    responses: list[GenerationResponse] = field(default_factory=list)
    failures: list[ProviderFailure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Combined:
    content: str
    #: The answer the result stands for (first valid, vote winner); None for several.
    selected: Candidate | None = None
    #: Who wrote ``content`` when one provider did (the selected answer or the synthesis).
    author: GenerationResponse | None = None
    data: dict[str, Any] = field(default_factory=dict)


@register
class ConsensusWorkflow(Workflow):
    info = WorkflowInfo(
        name="consensus",
        summary="Ask several models at once and combine their answers by a strategy.",
        description=(
            "Sends the same prompt to every provider in parallel, then combines the "
            "answers: all_responses (default, every answer labelled), first_valid, "
            "majority or weighted (the models vote on the anonymised answers; ties are "
            "reported), or synthesize (one provider writes a single answer naming where "
            "the models agree and differ). Providers that fail are reported, not hidden; "
            "--min-responses sets how many answers are needed."
        ),
        multi_provider=True,
        policy="parallel",
        example='model-chorus consensus "Is SQLite WAL safe on NFS?" -p claude -p gemini',
        state="strategy and per-turn summary (who answered, which answer won)",
    )

    async def run(self, request: WorkflowRequest) -> WorkflowResult:
        thread = self.load_thread(request)
        state = (self.store.get_state(thread.id, STATE_KEY) if thread else None) or {}
        turn = len(state.get("turns") or []) + 1
        strategy = resolve_strategy(request.options.get("strategy"), state)
        providers = self.env.providers
        min_responses = resolve_min_responses(request.options.get("min_responses"), providers)
        history = self.history(thread, request)
        prompt = render_prompt(
            request.prompt,
            history=history.messages,
            omitted=history.omitted,
            attachments=request.attachments,
        )
        build = request_builder(request, prompt, providers[0])
        run = _Run()
        if "synthesizer" in self.env.roles and strategy != "synthesize":
            run.warnings.append(
                f"--synthesizer is only used with --strategy synthesize (this run: {strategy})."
            )

        self.emit(EventKind.STEP, f"round 1: asking {', '.join(p.name for p in providers)}")
        if strategy == "first_valid":
            # Latecomers cancelled once enough answers are in did not fail: not in errors.
            outcome = await self.env.runner.first(
                providers, build, accept=has_content, needed=min_responses
            )
        else:
            outcome = await self.env.runner.parallel(providers, build)
        outcome.require(min_responses, what="consensus round")
        run.responses.extend(outcome.responses)
        run.failures.extend(outcome.failures)
        continued = thread is not None
        thread = thread or self.new_thread(request, strategy=strategy)
        voting = strategy in ("majority", "weighted")
        candidates = self._candidates(
            outcome.responses, run, label_seed=f"{thread.id}:{turn}" if voting else None
        )
        if len(candidates) < min_responses:
            raise WorkflowError(
                f"only {len(candidates)} non-empty answer(s) arrived, "
                f"{min_responses} needed (--min-responses).",
                step="collect answers",
                hint="Retry, add providers with -p, or lower --min-responses.",
            )

        question = render_prompt(request.prompt, history=history.messages, omitted=history.omitted)
        combined = await self._combine(strategy, candidates, question, request, run)

        author = combined.author
        result = WorkflowResult(
            workflow=self.info.name,
            thread_id=thread.id,
            content=combined.content,
            # The response the content came from goes last, so result.primary names it.
            responses=[r for r in run.responses if r is not author] + ([author] if author else []),
            failures=run.failures,
            warnings=run.warnings,
            continued=continued,
            data={
                "strategy": strategy,
                "min_responses": min_responses,
                "answers": [c.to_dict() for c in candidates],
                "selected": _selected_dict(combined.selected),
                **combined.data,
                "history": history.summary(),
            },
        )
        self.save_turn(
            result,
            thread,
            self._turn_messages(request, strategy, candidates, combined, run),
            create=not continued,
            state_key=STATE_KEY,
            merge=lambda current: self._next_state(
                current or {}, strategy, candidates, combined, run
            ),
        )
        return result

    # -- steps -------------------------------------------------------------------------

    @staticmethod
    def _turn_messages(
        request: WorkflowRequest,
        strategy: str,
        candidates: list[Candidate],
        combined: _Combined,
        run: _Run,
    ) -> list[Message]:
        """The turn as one combined message, each answer kept in its metadata."""
        author = combined.author
        return [
            user_message(request),
            Message(
                role=Role.ASSISTANT,
                content=combined.content,
                provider=author.provider if author else None,
                model=author.model if author else None,
                input_tokens=sum(r.usage.input_tokens for r in run.responses),
                output_tokens=sum(r.usage.output_tokens for r in run.responses),
                metadata={
                    "strategy": strategy,
                    "answers": [c.to_dict() for c in candidates],
                    "selected": combined.selected.label if combined.selected else None,
                    "failed": [f.provider for f in run.failures],
                },
            ),
        ]

    @staticmethod
    def _next_state(
        state: dict[str, Any],
        strategy: str,
        candidates: list[Candidate],
        combined: _Combined,
        run: _Run,
    ) -> dict[str, Any]:
        """``state`` (as stored when saving) with this turn's summary appended."""
        turns = list(state.get("turns") or [])
        turns.append(
            {
                "turn": len(turns) + 1,
                "strategy": strategy,
                "answered": [c.provider for c in candidates],
                "failed": [f.provider for f in run.failures],
                "selected": combined.selected.provider if combined.selected else None,
                "tie": bool(combined.data.get("tie", False)),
            }
        )
        return {"strategy": strategy, "turns": turns}

    @staticmethod
    def _candidates(
        responses: Sequence[GenerationResponse], run: _Run, *, label_seed: str | None = None
    ) -> list[Candidate]:
        """The non-empty answers in the order given (provider order; arrival order for
        first_valid); with ``label_seed`` their labels are shuffled by it (for a vote),
        else A, B, C ... in that order."""
        answered = [r for r in responses if has_content(r)]
        for response in responses:
            if not response.content.strip():
                run.warnings.append(f"{response.provider} returned an empty answer; left out.")
        if label_seed is None:
            labels = candidate_labels(len(answered))
        else:
            labels = shuffled_labels(len(answered), label_seed)
        return [Candidate(label, r) for label, r in zip(labels, answered, strict=True)]

    async def _combine(
        self,
        strategy: str,
        candidates: list[Candidate],
        question: str,
        request: WorkflowRequest,
        run: _Run,
    ) -> _Combined:
        if strategy == "first_valid":
            first = candidates[0]
            return _Combined(first.response.content, selected=first, author=first.response)
        if strategy in ("majority", "weighted"):
            return await self._vote(candidates, question, request, run, strategy == "weighted")
        if strategy == "synthesize":
            return await self._synthesize(candidates, question, request, run)
        return _Combined(all_responses_text(candidates))

    async def _vote(
        self,
        candidates: list[Candidate],
        question: str,
        request: WorkflowRequest,
        run: _Run,
        weighted: bool,
    ) -> _Combined:
        # The ballot lists the answers in label order: A first, whoever wrote it.
        ballot = sorted(candidates, key=lambda c: c.label)
        labels = [c.label for c in ballot]
        if len(candidates) == 1:
            run.warnings.append("Only one provider answered, so no vote was held.")
            only = candidates[0]
            return _Combined(
                only.response.content,
                selected=only,
                author=only.response,
                data=_vote_data([], {only.label: 0.0}, [only.label], weighted),
            )
        by_name = {p.name: p for p in self.env.providers}
        voters = [by_name[c.provider] for c in candidates if c.provider in by_name]
        self.emit(EventKind.STEP, f"round 2: voting ({', '.join(v.name for v in voters)})")
        prompt = VOTE_PROMPT.format(
            labels=", ".join(labels),
            question=question,
            candidates="\n\n".join(
                f'<answer label="{c.label}">\n{c.response.content.strip()}\n</answer>'
                for c in ballot
            ),
        )
        outcome = await self.env.runner.parallel(
            voters, request_builder(request, prompt, self.env.providers[0])
        )
        run.responses.extend(outcome.responses)
        run.failures.extend(outcome.failures)
        replies = {r.provider: r for r in outcome.responses}
        errors = {e.provider: e for e in outcome.errors}
        ballots: list[Ballot] = []
        for voter in voters:
            weight = self.env.settings.provider(voter.name).weight if weighted else 1.0
            reply = replies.get(voter.name)
            if reply is None:
                error = errors.get(voter.name)
                why = f"{error.kind}: {error.message}" if error else "no reply"
                run.warnings.append(f"{voter.name} did not vote ({why}); counted as abstaining.")
                ballots.append(Ballot(voter.name, None, weight=weight))
                continue
            label, reason = parse_ballot(reply.content, labels)
            if label is None:
                run.warnings.append(
                    f"{voter.name}'s vote could not be read (expected one of "
                    f"{', '.join(labels)}); counted as abstaining."
                )
            ballots.append(Ballot(voter.name, label, reason, weight))
        result = tally(ballots, labels)
        data = _vote_data(ballots, result.scores, result.winners, weighted)
        if not result.decided:
            run.warnings.append("No vote could be counted; showing every answer instead.")
            return _Combined(all_responses_text(candidates), data=data)
        by_label = {c.label: c for c in candidates}
        if result.tie:
            tied = [by_label[label] for label in result.winners]
            return _Combined(tie_text(tied, result.scores[tied[0].label]), data=data)
        winner = by_label[result.winners[0]]
        return _Combined(
            winner.response.content, selected=winner, author=winner.response, data=data
        )

    async def _synthesize(
        self,
        candidates: list[Candidate],
        question: str,
        request: WorkflowRequest,
        run: _Run,
    ) -> _Combined:
        synthesizer = self.role_provider("synthesizer")
        # If the synthesizer fails, another model that answered writes it (with a warning).
        chain: list[ModelProvider] = [synthesizer]
        chain += [
            p
            for p in self.env.providers
            if p.name != synthesizer.name and any(c.provider == p.name for c in candidates)
        ]
        self.emit(EventKind.STEP, f"synthesis: {synthesizer.name}", synthesizer.name)
        prompt = SYNTHESIS_PROMPT.format(
            question=question,
            answers="\n\n".join(
                f'<answer provider="{c.provider}">\n{c.response.content.strip()}\n</answer>'
                for c in candidates
            ),
        )
        outcome = await self.env.runner.sequential(
            chain, request_builder(request, prompt, self.env.providers[0])
        )
        run.failures.extend(outcome.failures)
        if not outcome.responses:
            reasons = "; ".join(f"{e.provider} ({e.kind}: {e.message})" for e in outcome.errors)
            raise WorkflowError(
                f"no provider could write the synthesis: {reasons}.",
                step="synthesize",
                hint="Retry, pick another --synthesizer, or use --strategy all_responses.",
            )
        response = outcome.responses[0]
        run.responses.append(response)
        if response.provider != synthesizer.name:
            run.warnings.append(
                f"The synthesizer {synthesizer.name} failed; {response.provider} wrote "
                "the synthesis instead."
            )
        agreement = find_section_items(response.content, *_AGREEMENT_LABELS)
        differences = find_section_items(response.content, *_DIFFERENCE_LABELS)
        if agreement is None or differences is None:
            missing = " and ".join(
                name
                for name, items in (("Agreement", agreement), ("Differences", differences))
                if items is None
            )
            run.warnings.append(
                f"The synthesis has no {missing} section; only its full text is kept."
            )
        return _Combined(
            response.content,
            author=response,
            data={
                "synthesis": {
                    "provider": response.provider,
                    "model": response.model,
                    "agreement": agreement or [],
                    "differences": differences or [],
                }
            },
        )


# --- option handling and text shapes ----------------------------------------------------


def resolve_strategy(value: object, state: dict[str, Any]) -> str:
    """The strategy asked for, else the one this thread used last, else the default."""
    if value is None:
        previous = state.get("strategy")
        return previous if previous in STRATEGIES else DEFAULT_STRATEGY
    strategy = str(value).strip().lower().replace("-", "_")
    if strategy not in STRATEGIES:
        raise InputError(
            f"Unknown consensus strategy {value!r}.",
            hint=f"Use one of: {', '.join(STRATEGIES)}.",
        )
    return strategy


def resolve_min_responses(value: object, providers: Sequence[ModelProvider]) -> int:
    value = int_option({"min_responses": value}, "min_responses", flag="--min-responses", default=1)
    if value > len(providers):
        names = ", ".join(p.name for p in providers)
        raise InputError(
            f"--min-responses {value} is more than the {len(providers)} provider(s) "
            f"asked ({names}).",
            hint="Add providers with -p, or lower --min-responses.",
        )
    return value


def has_content(response: GenerationResponse) -> bool:
    """A usable answer: not empty or whitespace (first_valid races on past the others)."""
    return bool(response.content.strip())


def all_responses_text(candidates: Sequence[Candidate]) -> str:
    """Every answer under a heading naming its provider (and model)."""
    blocks = []
    for c in candidates:
        who = c.provider + (f" ({c.response.model})" if c.response.model else "")
        blocks.append(f"### {who}\n\n{c.response.content.strip()}")
    return "\n\n".join(blocks)


def tie_text(tied: Sequence[Candidate], score: float) -> str:
    names = " and ".join(f"{c.label} ({c.provider})" for c in tied)
    return f"The vote is tied between {names}, with {score:g} each.\n\n" + all_responses_text(tied)


def _vote_data(
    ballots: Sequence[Ballot], scores: dict[str, float], winners: list[str], weighted: bool
) -> dict[str, Any]:
    return {
        "votes": [b.to_dict() for b in ballots],
        "scores": scores,
        "weighted": weighted,
        "winners": winners,
        "tie": len(winners) > 1,
        "tied": winners if len(winners) > 1 else [],
    }


def _selected_dict(selected: Candidate | None) -> dict[str, Any] | None:
    if selected is None:
        return None
    return {"label": selected.label, "provider": selected.provider}
