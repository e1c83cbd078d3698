"""argument: a structured debate — creator (for), skeptic (against), moderator (synthesis).

Each role may run on its own provider (``--creator``, ``--skeptic``,
``--moderator``). The roles speak in turn and each sees what was actually
said before it: the skeptic rebuts the creator's text, in later rounds the
creator answers the skeptic's rebuttal, and the moderator weighs every round.
The calls are sequential by nature; a role without its own provider uses the
primary provider and, if that fails, the configured fallbacks.

Every role is asked to end with a "Key points:" list, which is parsed into the
structured result; the moderator is asked for a "Verdict:" and a
"Recommendation:" line.

Concurrent runs. Two ``--continue`` runs of one thread at once are two
branches of the debate from the same point: each run's rounds answer what
that run saw, so both keep the round numbers they were held under (two
"round 2"s). A save merges onto the state stored at that moment: this run's
entry is appended to ``runs``, its key points are added to each side's
(first wording kept), and ``rounds_completed`` becomes the highest round
either run reached, so the next run continues after both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from model_chorus.events import EventKind
from model_chorus.models import (
    GenerationResponse,
    Message,
    ProviderFailure,
    Role,
    Thread,
    WorkflowResult,
)
from model_chorus.providers.base import ModelProvider
from model_chorus.workflows.base import (
    Workflow,
    WorkflowInfo,
    WorkflowRequest,
    assistant_message,
    int_option,
    user_message,
)
from model_chorus.workflows.prompting import render_attachments
from model_chorus.workflows.registry import register
from model_chorus.workflows.replies import (
    extract_json_object,
    extract_last_list,
    find_labelled_or_heading,
    find_section_items,
    strip_markdown,
)
from model_chorus.workflows.requests import request_builder

STATE_KEY = "argument"
DEFAULT_ROUNDS = 1
MAX_ROUNDS = 5
ROLES = ("creator", "skeptic", "moderator")
#: How each role is introduced in transcripts the models read.
ROLE_TITLES = {
    "creator": "Creator (for)",
    "skeptic": "Skeptic (against)",
    "moderator": "Moderator",
}

KEY_POINTS_INSTRUCTION = """\
End your reply with a "Key points:" list, one short line per point:

Key points:
- ...
- ..."""

CREATOR_PROMPT = """\
You are the CREATOR in a structured debate. Argue FOR the position or proposal below: \
make the strongest honest case for it, with concrete reasons, evidence and examples.

{brief}

{task}

{key_points}"""

CREATOR_OPENING = "Present your case."
CREATOR_CONTINUE = """\
The debate continues (the earlier debate is above). Answer the skeptic's latest \
rebuttal and the user's follow-up, if any: concede what is right, defend what still \
stands, and strengthen the case."""
CREATOR_REPLY = """\
The skeptic has rebutted your case (the debate so far is above). Answer the rebuttal \
directly: concede what is right, defend what still stands, and strengthen the case."""

SKEPTIC_PROMPT = """\
You are the SKEPTIC in a structured debate. Argue AGAINST the position or proposal below.

{brief}

Rebut the creator's latest argument point by point: expose weak reasoning, missing \
evidence, risks, costs and better alternatives. Engage with what the creator actually \
said, not with a straw man.

{key_points}"""

MODERATOR_PROMPT = """\
You are the MODERATOR of a structured debate between a creator (arguing for) and a \
skeptic (arguing against).

{brief}

Weigh both sides fairly. Write a balanced synthesis: the strongest points of each side, \
where they agree, what remains uncertain, and under which conditions each side is right.

End with these two lines:
Verdict: <one sentence: which side is better supported, or that it depends on what>
Recommendation: <one sentence: what to do>"""

_KEY_POINT_LABELS = ("Key points", "Key point", "Keypoints", "Main points", "Key arguments")


@dataclass(frozen=True)
class Turn:
    """One role's contribution to one round."""

    role: str
    round: int
    response: GenerationResponse
    key_points: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.response.content.strip()

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.response.provider,
            "model": self.response.model,
            "text": self.response.content,
            "key_points": self.key_points,
        }


@register
class ArgumentWorkflow(Workflow):
    info = WorkflowInfo(
        name="argument",
        summary="Debate a question: creator (for), skeptic (against), moderator (synthesis).",
        description=(
            "A creator argues for the proposition, a skeptic rebuts what the creator "
            "actually said, for --rounds exchanges, and a moderator weighs the whole "
            "debate into a synthesis with a verdict and a recommendation. Each role can "
            "use its own provider (--creator, --skeptic, --moderator). The result lists "
            "each role's text, the key points of each side and the synthesis."
        ),
        policy="sequential",
        example='model-chorus argument "We should rewrite the service in Rust" --skeptic gemini',
        state="topic, rounds so far, key points per side, verdicts",
    )

    async def run(self, request: WorkflowRequest) -> WorkflowResult:
        rounds = resolve_rounds(request.options.get("rounds"))
        thread = self.load_thread(request)
        state = (self.store.get_state(thread.id, STATE_KEY) if thread else None) or {}
        history = self.history(thread, request)
        continued = thread is not None
        # An imported legacy thread has no state: its first user turn was the topic.
        topic = str(state.get("topic") or self._first_prompt(thread) or request.prompt)
        follow_up = request.prompt if continued and request.prompt != topic else None
        first_round = int(state.get("rounds_completed") or 0) + 1
        brief = debate_brief(topic, follow_up, request, history.messages, history.omitted)

        failures: list[ProviderFailure] = []
        warnings: list[str] = []
        turns: list[Turn] = []
        for number in range(first_round, first_round + rounds):
            if number > first_round:
                creator_task = CREATOR_REPLY
            else:
                creator_task = CREATOR_CONTINUE if continued else CREATOR_OPENING
            creator_prompt = CREATOR_PROMPT.format(
                brief=with_debate(brief, turns),
                task=creator_task,
                key_points=KEY_POINTS_INSTRUCTION,
            )
            turns.append(
                await self._turn("creator", number, creator_prompt, request, failures, warnings)
            )
            skeptic_prompt = SKEPTIC_PROMPT.format(
                brief=with_debate(brief, turns), key_points=KEY_POINTS_INSTRUCTION
            )
            turns.append(
                await self._turn("skeptic", number, skeptic_prompt, request, failures, warnings)
            )
        last_round = first_round + rounds - 1
        moderator_prompt = MODERATOR_PROMPT.format(brief=with_debate(brief, turns))
        moderator = await self._turn(
            "moderator", last_round, moderator_prompt, request, failures, warnings
        )
        verdict = find_labelled_or_heading(moderator.text, "Verdict")
        recommendation = find_labelled_or_heading(moderator.text, "Recommendation")

        thread = thread or self.new_thread(request)
        messages = [user_message(request)]
        messages += [turn_message(t) for t in [*turns, moderator]]
        messages[-1].metadata.update(verdict=verdict, recommendation=recommendation)
        result = WorkflowResult(
            workflow=self.info.name,
            thread_id=thread.id,
            content=moderator.response.content,
            responses=[t.response for t in [*turns, moderator]],
            failures=failures,
            warnings=warnings,
            continued=continued,
            data={
                "topic": topic,
                "follow_up": follow_up,
                "roles": {role: self._chain(role)[0].name for role in ROLES},
                "rounds": rounds_data(turns),
                "key_points": side_points(turns),
                "synthesis": {
                    "provider": moderator.response.provider,
                    "model": moderator.response.model,
                    "text": moderator.response.content,
                    "verdict": verdict,
                    "recommendation": recommendation,
                },
                "history": history.summary(),
            },
        )
        self.save_turn(
            result,
            thread,
            messages,
            create=not continued,
            state_key=STATE_KEY,
            merge=lambda current: updated_state(
                current or {}, topic, turns, moderator, verdict, recommendation, request
            ),
        )
        return result

    def _first_prompt(self, thread: Thread | None) -> str | None:
        if thread is None:
            return None
        messages = self.store.get_messages(thread.id)
        return next((m.content for m in messages if m.role == Role.USER), None)

    def _chain(self, role: str) -> list[ModelProvider]:
        """The role's own provider, else the primary followed by its fallbacks."""
        if role in self.env.roles:
            return [self.env.roles[role]]
        return list(self.env.providers)

    async def _turn(
        self,
        role: str,
        number: int,
        prompt: str,
        request: WorkflowRequest,
        failures: list[ProviderFailure],
        warnings: list[str],
    ) -> Turn:
        chain = self._chain(role)
        step = "moderator" if role == "moderator" else f"round {number}: {role}"
        self.emit(EventKind.STEP, f"{step} ({chain[0].name})", chain[0].name)
        outcome = await self.env.runner.sequential(
            chain, request_builder(request, prompt, self.env.providers[0])
        )
        failures.extend(outcome.failures)
        outcome.require(1, what=f"argument step '{step}'")
        response = outcome.responses[0]
        if response.provider != chain[0].name:
            warnings.append(f"{step}: {chain[0].name} failed; {response.provider} answered.")
        if role == "moderator":
            return Turn(role, number, response)
        points, found = key_points(response.content)
        if not found:
            warnings.append(
                f"{step} ({response.provider}) gave no 'Key points:' list; "
                + ("its last list was used." if points else "no key points recorded.")
            )
        return Turn(role, number, response, points)


# --- prompt pieces ----------------------------------------------------------------------


def resolve_rounds(value: object) -> int:
    return int_option(
        {"rounds": value},
        "rounds",
        flag="--rounds",
        default=DEFAULT_ROUNDS,
        high=MAX_ROUNDS,
        hint="Each round is two model calls; continue the thread for more.",
    )


def debate_brief(
    topic: str,
    follow_up: str | None,
    request: WorkflowRequest,
    history: Sequence[Message],
    omitted: int,
) -> str:
    """What every role is told about the debate before its own task."""
    sections = []
    if history or omitted:
        sections.append(
            "<earlier_debate>\n" + debate_transcript(history, omitted) + "\n</earlier_debate>"
        )
    if request.attachments:
        sections.append("<files>\n" + render_attachments(request.attachments) + "\n</files>")
    sections.append(f"<topic>\n{topic}\n</topic>")
    if follow_up:
        sections.append(
            "<follow_up>\nThe user continues the debate with:\n" + follow_up + "\n</follow_up>"
        )
    return "\n\n".join(sections)


def with_debate(brief: str, turns: Sequence[Turn]) -> str:
    """The brief plus this run's debate so far, in full."""
    if not turns:
        return brief
    spoken = "\n\n".join(
        f"[Round {t.round} · {ROLE_TITLES[t.role]} · {t.response.provider}]\n{t.text}"
        for t in turns
    )
    return f"{brief}\n\n<debate_so_far>\n{spoken}\n</debate_so_far>"


def debate_transcript(messages: Sequence[Message], omitted: int = 0) -> str:
    """Stored turns with their debate role, which the generic transcript would lose."""
    lines = [f"[{omitted} earlier message(s) omitted to fit the context window]"] if omitted else []
    for message in messages:
        role = message.metadata.get("role")
        if message.role == Role.USER:
            who = "User"
        elif role in ROLE_TITLES:
            number = message.metadata.get("round")
            who = ROLE_TITLES[role] + (f", round {number}" if number else "")
            if message.provider:
                who += f" ({message.provider})"
        else:
            who = f"Assistant ({message.provider})" if message.provider else "Assistant"
        lines.append(f"{who}: {message.content}")
    return "\n\n".join(lines)


# --- reading replies --------------------------------------------------------------------


def key_points(text: str) -> tuple[list[str], bool]:
    """(points, found): the reply's "Key points" list (or a JSON ``key_points``);
    failing that, its last list with ``found`` False."""
    obj = extract_json_object(text, "key_points")
    if obj is not None and isinstance(obj.get("key_points"), list):
        points = [strip_markdown(str(p)) for p in obj["key_points"] if str(p).strip()]
        if points:
            return points, True
    items = find_section_items(text, *_KEY_POINT_LABELS)
    if items:
        return items, True
    return extract_last_list(text), False


def side_points(turns: Sequence[Turn]) -> dict[str, list[str]]:
    """Key points per side across rounds, first wording kept for repeated points."""
    sides: dict[str, list[str]] = {"for": [], "against": []}
    for turn in turns:
        side = sides["for" if turn.role == "creator" else "against"]
        seen = {p.casefold() for p in side}
        side.extend(p for p in turn.key_points if p.casefold() not in seen)
    return sides


# --- storing ----------------------------------------------------------------------------


def turn_message(turn: Turn) -> Message:
    response = turn.response
    metadata: dict[str, Any] = {"role": turn.role, "round": turn.round}
    if turn.role != "moderator":
        metadata["key_points"] = turn.key_points
    return assistant_message(response, **metadata)


def rounds_data(turns: Sequence[Turn]) -> list[dict[str, Any]]:
    rounds: dict[int, dict[str, Any]] = {}
    for turn in turns:
        rounds.setdefault(turn.round, {"round": turn.round})[turn.role] = turn.to_dict()
    return list(rounds.values())


def updated_state(
    state: dict[str, Any],
    topic: str,
    turns: Sequence[Turn],
    moderator: Turn,
    verdict: str | None,
    recommendation: str | None,
    request: WorkflowRequest,
) -> dict[str, Any]:
    """``state`` (as stored when saving) with this run merged in: runs appended, key
    points added, ``rounds_completed`` the highest round either reached."""
    points = side_points(turns)
    earlier = state.get("key_points") or {}
    merged = {
        side: _unique_points([*(earlier.get(side) or []), *points[side]])
        for side in ("for", "against")
    }
    runs = list(state.get("runs") or [])
    runs.append(
        {
            "prompt": request.prompt,
            "first_round": turns[0].round,
            "last_round": turns[-1].round,
            "providers": {t.role: t.response.provider for t in [*turns, moderator]},
            "verdict": verdict,
            "recommendation": recommendation,
        }
    )
    return {
        "topic": state.get("topic") or topic,
        "rounds_completed": max(int(state.get("rounds_completed") or 0), turns[-1].round),
        "key_points": merged,
        "runs": runs,
    }


def _unique_points(points: Sequence[str]) -> list[str]:
    """Each point once, in its first wording (repeats differ in case at most)."""
    seen: dict[str, str] = {}
    for point in points:
        seen.setdefault(point.casefold(), point)
    return list(seen.values())
