"""thinkdeep: a step-wise investigation with hypotheses, confidence and optional expert review.

Two ways to drive it:

* autonomous — each step asks the model (primary, then fallbacks) to
  investigate and reply with findings, hypotheses, a confidence level and the
  next step; the parsed reply is merged into the state, and the next step's
  prompt carries every earlier step's findings, the hypotheses and the current
  confidence. Steps run until the confidence reaches ``target_confidence`` or
  ``max_steps`` have run.
* manual — an agent records one step (``--step``, optional ``--findings``,
  ``--hypothesis``, ``--confidence``). The model is still called once, for its
  analysis of that step; what the agent stated wins over what the model says.

Every completed step is stored at once (state and messages), so a failure in
step 3 keeps steps 1–2 and ``--continue`` resumes from there. With ``expert``
(``-e``), a second provider reviews the final state; its verdict is an
enrichment: if that call fails the run still succeeds, with a warning.

Concurrent runs. Each step is saved as a change replayed onto the state as
stored at that moment, not as a copy of this run's state: the step is
numbered after any step another run stored meanwhile, its hypothesis updates
are merged by id or text (ids the model could not have seen are treated as
new), the confidence becomes this step's, and the run goes on from the state
as stored, so its next step reads the other run's findings too. Two
``--continue`` runs of one investigation at once therefore keep every step,
as if two investigators shared one notebook.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from model_chorus.errors import (
    AllProvidersFailedError,
    InputError,
    ModelChorusError,
    ProviderError,
    WorkflowError,
)
from model_chorus.events import EventKind
from model_chorus.models import GenerationResponse, Message, Thread, WorkflowResult
from model_chorus.providers.base import ModelProvider
from model_chorus.workflows.base import (
    Workflow,
    WorkflowInfo,
    WorkflowRequest,
    assistant_message,
    int_option,
    user_message,
)
from model_chorus.workflows.investigation import (
    CONFIDENCE_LEVELS,
    HypothesisUpdate,
    InvestigationState,
    Step,
    confidence_rank,
    parse_confidence,
)
from model_chorus.workflows.prompting import render_prompt
from model_chorus.workflows.registry import register
from model_chorus.workflows.requests import request_builder
from model_chorus.workflows.runner import RunOutcome
from model_chorus.workflows.thinkdeep_replies import StepReply, parse_expert_reply, parse_step_reply

if TYPE_CHECKING:
    from model_chorus.store.database import ConversationDatabase

STATE_KEY = "thinkdeep"
MAX_STEPS_DEFAULT = 5
MAX_STEPS_LIMIT = 20
TARGET_DEFAULT = "high"

STEP_PROMPT = """\
You are investigating a problem step by step, as a careful engineer would.

Question: {question}

{so_far}

This is step {number}{of_max}. {focus}{reported}

Examine the question and any files and conversation provided, then report this step.
Keep hypotheses that are still open, mark the ones your evidence settles as validated
or disproven, and reuse their ids (H1, H2 ...).

Reply with a JSON object in a fenced code block:
```json
{{"findings": "What this step found, with concrete evidence (file:line, values).",
 "hypotheses": [{{"id": "H1", "text": "The hypothesis", "status": "active|validated|disproven",
   "evidence": ["What supports or refutes it"]}}],
 "confidence": "exploring|low|medium|high|very_high|almost_certain|certain",
 "next_step": "What to check next, or \\"none\\" when the question is answered.",
 "files_checked": ["path/you/examined.py"]}}
```
Leave out "id" for a new hypothesis. If you cannot produce JSON, write labelled lines:
"Findings: ...", "Hypothesis: ... (active|validated|disproven)", "Confidence: ...",
"Next step: ...", "Files checked: ..."."""

EXPERT_PROMPT = """\
Another engineer investigated the question below step by step. Review the
investigation critically, as an independent expert: is the conclusion supported
by the evidence, what was missed, and how confident should one be?

Question: {question}

{state}

Reply with a JSON object in a fenced code block:
```json
{{"verdict": "agree|partially_agree|disagree|uncertain",
 "reasoning": "Why, referring to the steps and evidence.",
 "confidence": "exploring|low|medium|high|very_high|almost_certain|certain",
 "concerns": ["Anything missed or unsupported"]}}
```
If you cannot produce JSON, write labelled lines: "Verdict: ...", "Reasoning: ...",
"Confidence: ...", and a "Concerns:" list."""


@dataclass(frozen=True)
class ThinkdeepOptions:
    max_steps: int = MAX_STEPS_DEFAULT
    target_confidence: str = TARGET_DEFAULT
    #: Manual mode: the step an agent took, and what it reports about it.
    step: str | None = None
    findings: str | None = None
    hypothesis: str | None = None
    confidence: str | None = None

    @property
    def manual(self) -> bool:
        return self.step is not None

    @classmethod
    def from_request(cls, request: WorkflowRequest) -> ThinkdeepOptions:
        options = request.options
        step = _blank_to_none(options.get("step"))
        findings = _blank_to_none(options.get("findings"))
        hypothesis = _blank_to_none(options.get("hypothesis"))
        confidence_text = _blank_to_none(options.get("confidence"))
        if step is None and (findings or hypothesis or confidence_text):
            raise InputError(
                "--findings, --hypothesis and --confidence describe a manual step.",
                hint='Give the step too: --step "What you checked".',
            )
        max_steps = int_option(
            options,
            "max_steps",
            flag="--max-steps",
            default=MAX_STEPS_DEFAULT,
            high=MAX_STEPS_LIMIT,
            hint="Continue the thread with --continue to go on after the last step.",
        )
        return cls(
            max_steps=max_steps,
            target_confidence=_level(options.get("target_confidence"), "--target-confidence")
            or TARGET_DEFAULT,
            step=step,
            findings=findings,
            hypothesis=hypothesis,
            confidence=_level(confidence_text, "--confidence"),
        )


def _blank_to_none(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None


def _level(value: Any, option: str) -> str | None:
    if value is None or not str(value).strip():
        return None
    level = parse_confidence(str(value))
    if level is None:
        raise InputError(
            f"{option} {value!r} is not a confidence level.",
            hint="Use one of: " + ", ".join(CONFIDENCE_LEVELS) + ".",
        )
    return level


@register
class ThinkdeepWorkflow(Workflow):
    info = WorkflowInfo(
        name="thinkdeep",
        summary="Investigate step by step with hypotheses and confidence; optional expert review.",
        description=(
            "Runs investigation steps until the confidence reaches --target-confidence or "
            "--max-steps have run, each step fed the earlier findings, hypotheses and "
            "confidence. An agent can instead record steps itself (--step, --findings, "
            "--hypothesis, --confidence). -e/--expert has a second provider review the "
            "conclusion. `thinkdeep-status ID` shows the stored investigation."
        ),
        policy="sequential",
        example='model-chorus thinkdeep "Why do logins fail?" -f src/auth.py --max-steps 5',
        state="steps, hypotheses, confidence, relevant files, expert verdict (key 'thinkdeep')",
        # A manual step carries its own text; without --continue it becomes the question.
        prompt_optional_with=("step",),
    )

    async def run(self, request: WorkflowRequest) -> WorkflowResult:
        options = ThinkdeepOptions.from_request(request)
        thread = self.load_thread(request)
        state = load_investigation(self.store, thread.id) if thread else InvestigationState()
        state.question = (
            state.question
            or (thread.title if thread else "")
            or request.prompt
            or options.step
            or ""
        )
        run = _Run(self, request, options, state, thread)
        limit = 1 if options.manual else options.max_steps
        for index in range(limit):
            await run.step(index, limit)
            if not options.manual and confidence_rank(run.state.confidence) >= confidence_rank(
                options.target_confidence
            ):
                run.stopped = "target_reached"
                break
        expert = self.env.roles.get("expert")
        if expert is not None:
            await run.review(expert)
        return run.result()


class _Run:
    """One run's steps and review, and what they gather (responses, failures, warnings)."""

    def __init__(
        self,
        workflow: ThinkdeepWorkflow,
        request: WorkflowRequest,
        options: ThinkdeepOptions,
        state: InvestigationState,
        thread: Thread | None,
    ) -> None:
        self.wf = workflow
        self.request = request
        self.options = options
        #: The investigation as stored by this run's last save (plus, before a save, the
        #: step being saved); steps another run stored meanwhile come in with each save.
        self.state = state
        #: The state this run started from, for a save that finds no steps stored: a new
        #: thread, or a legacy one whose steps ``load_investigation`` rebuilt from its turns.
        self.initial = state.to_dict()
        self.continued = thread is not None
        self.thread = thread or workflow.new_thread(replace(request, prompt=state.question))
        #: Whether ``self.thread`` is in the store: continued, or a step of this run saved.
        self.stored = thread is not None
        self.history = workflow.history(thread, request)
        self.primary = workflow.env.providers[0]
        self.responses: list[GenerationResponse] = []
        self.errors: list[ProviderError] = []
        self.warnings: list[str] = []
        self.steps_done: list[int] = []
        self.stopped = "manual" if options.manual else "max_steps"

    def result(self, *, unsaved_step: int | None = None) -> WorkflowResult:
        """The run's result; ``unsaved_step`` is a step that was asked but not stored."""
        options = self.options
        steps = self.steps_done + ([unsaved_step] if unsaved_step is not None else [])
        data = self.state.to_dict()
        data["run"] = {
            "mode": "manual" if options.manual else "autonomous",
            "steps": steps,
            "stopped": self.stopped,
            "target_confidence": None if options.manual else options.target_confidence,
            "max_steps": None if options.manual else options.max_steps,
        }
        return WorkflowResult(
            workflow=self.wf.info.name,
            thread_id=self.thread.id,
            content=report_markdown(self.state, steps),
            responses=self.responses,
            failures=RunOutcome(errors=self.errors).failures,
            data=data,
            warnings=self.warnings,
            continued=self.continued,
        )

    async def step(self, index: int, limit: int) -> None:
        """Ask for one step, merge the reply and store it (state and messages) at once."""
        state, options = self.state, self.options
        number = state.next_step_number
        name, focus = self._focus(index)
        progress = "" if options.manual else f" ({index + 1}/{limit})"
        self.wf.emit(EventKind.STEP, f"step {number}{progress}: {self.primary.name}…")
        text = STEP_PROMPT.format(
            question=state.question,
            so_far=render_state(state)
            if state.steps or state.hypotheses
            else "Nothing has been investigated yet.",
            number=number,
            of_max="" if options.manual else f" of at most {number + limit - index - 1}",
            focus=focus,
            reported=_reported(options),
        )
        prompt = render_prompt(
            text,
            history=self.history.messages,
            omitted=self.history.omitted,
            attachments=self.request.attachments,
        )
        outcome = await self.wf.env.runner.sequential(
            self.wf.env.providers, request_builder(self.request, prompt, self.primary)
        )
        self.errors.extend(outcome.errors)
        if not outcome.responses:
            raise self._failed(outcome, number)
        response = outcome.responses[0]
        self.responses.append(response)
        reply = for_state(parse_step_reply(response.content), state)
        files = [a.path for a in self.request.attachments]

        def record(target: InvestigationState) -> Step:
            step = apply_step(
                target, reply, options, target.next_step_number, name, response.provider
            )
            target.add_files(files)
            return step

        step = record(state)
        # After the merge: in a manual step the agent's findings and confidence are kept.
        self.warnings.extend(_reply_warnings(reply, step, options))
        turn = user_message(self.request) if index == 0 else None
        answer = assistant_message(response)
        messages = [turn, answer] if turn is not None else [answer]

        def number_messages(recorded: Step) -> None:
            number = recorded.step_number
            if turn is not None:
                turn.metadata["step_number"] = number
                if options.manual:
                    turn.content = manual_turn(self.request.prompt, number, options)
            answer.metadata.update(step_number=number, confidence=recorded.confidence)

        number_messages(step)

        def merge(current: InvestigationState) -> None:
            # Replayed onto the state as stored now: numbered after any step stored meanwhile.
            number_messages(record(current))

        self._save(messages, merge, unsaved_step=step.step_number)
        self.steps_done.append(self.state.steps[-1].step_number)

    def _focus(self, index: int) -> tuple[str, str]:
        """The step's name as stored, and the line of the prompt that sets its direction."""
        state, options, prompt = self.state, self.options, self.request.prompt.strip()
        if options.step:
            return options.step, f"The investigator took this step: {options.step}"
        if index == 0 and self.continued and prompt:
            return prompt, f"New direction from the user: {prompt}"
        if state.steps and (suggested := state.steps[-1].next_step):
            return suggested, f"The previous step suggested: {suggested}"
        if not state.steps:
            return "Initial investigation", "Start with the most informative thing to check."
        return "Further investigation", "Choose the most useful thing to check next."

    def _save(
        self,
        messages: list[Message],
        change: Callable[[InvestigationState], None],
        *,
        unsaved_step: int | None = None,
    ) -> None:
        """Store messages and ``change`` applied to the state as stored at that moment, in
        one transaction; this run goes on from the state as stored."""

        def merge(current: dict[str, Any] | None) -> dict[str, Any]:
            stored = InvestigationState.from_dict(current)
            if not stored.steps:
                stored = InvestigationState.from_dict(self.initial)
            stored.question = stored.question or self.state.question
            change(stored)
            return stored.to_dict()

        kept = None
        if self.steps_done:
            kept = f"{self._saved_steps().lower()} saved in thread {self.thread.id}"
        saved = self.wf.save_turn(
            self.result(unsaved_step=unsaved_step),
            self.thread,
            messages,
            create=not self.stored,
            state_key=STATE_KEY,
            merge=merge,
            thread_stored=self.stored,
            kept=kept,
        )
        self.stored = True
        self.state = InvestigationState.from_dict(saved.state)

    def _saved_steps(self) -> str:
        done = self.steps_done
        return f"Steps {done[0]}–{done[-1]} are" if len(done) > 1 else f"Step {done[0]} is"

    def _failed(self, outcome: RunOutcome, number: int) -> ModelChorusError:
        if not self.steps_done:
            # Nothing of this run was stored: the providers' own error says it all.
            return AllProvidersFailedError(outcome.errors, what=f"thinkdeep step {number}")
        # Worded without the number: WorkflowError puts "step N: " in front.
        cause = AllProvidersFailedError(outcome.errors, what="step")
        return WorkflowError(
            cause.message,
            step=f"step {number}",
            hint=f"{self._saved_steps()} saved; resume with `model-chorus thinkdeep --continue "
            f'{self.thread.id} "..."`.' + (f" {cause.hint}" if cause.hint else ""),
            thread_id=self.thread.id,
        )

    async def review(self, expert: ModelProvider) -> None:
        """The expert's verdict on the whole state; if it fails, a warning, no verdict."""
        self.wf.emit(EventKind.STEP, f"expert validation: {expert.name}…", expert.name)
        text = EXPERT_PROMPT.format(question=self.state.question, state=render_state(self.state))
        prompt = render_prompt(text, attachments=self.request.attachments)
        outcome = await self.wf.env.runner.sequential(
            [expert], request_builder(self.request, prompt, self.primary)
        )
        self.errors.extend(outcome.errors)
        if not outcome.responses:
            reasons = "; ".join(f"{e.provider}: {e.message}" for e in outcome.errors)
            self.warnings.append(
                f"Expert validation failed ({reasons}); the investigation stands unreviewed."
            )
            return
        response = outcome.responses[0]
        self.responses.append(response)
        reply = parse_expert_reply(response.content)
        if reply.shape == "prose":
            self.warnings.append(
                f"Expert {response.provider}: no verdict found in the reply; its whole text is "
                "kept as the reasoning."
            )
        verdict = {
            "provider": response.provider,
            "model": response.model,
            "verdict": reply.verdict,
            "reasoning": reply.reasoning,
            "confidence": reply.confidence,
            "concerns": reply.concerns,
            "after_step": self.steps_done[-1],
            "shape": reply.shape,
        }

        def add_verdict(state: InvestigationState) -> None:
            state.expert_validation = verdict

        add_verdict(self.state)
        self._save([assistant_message(response, role="expert")], add_verdict)


def apply_step(
    state: InvestigationState,
    reply: StepReply,
    options: ThinkdeepOptions,
    number: int,
    name: str,
    provider: str,
) -> Step:
    """Merge one step's reply (and, in manual mode, what the agent stated) into ``state``."""
    findings = options.findings if options.manual and options.findings else reply.findings
    if options.manual and options.hypothesis:
        evidence = [options.findings] if options.findings else []
        state.merge_hypothesis(HypothesisUpdate(text=options.hypothesis, evidence=evidence))
    for update in reply.hypotheses:
        state.merge_hypothesis(update)
    confidence = (options.confidence if options.manual else None) or reply.confidence
    state.confidence = confidence or state.confidence
    step = Step(
        step_number=number,
        step=name,
        findings=findings,
        files_checked=reply.files_checked,
        confidence=state.confidence,
        mode="manual" if options.manual else "auto",
        provider=provider,
        next_step=reply.next_step,
        analysis=reply.findings if options.manual and options.findings else None,
    )
    state.steps.append(step)
    state.add_files(reply.files_checked)
    return step


def for_state(reply: StepReply, state: InvestigationState) -> StepReply:
    """``reply`` with hypothesis ids ``state`` does not know dropped: they name hypotheses
    new to the model, so they are matched by text or added, never mistaken for a
    hypothesis another run stored under that id meanwhile."""
    known = {h.id.lower() for h in state.hypotheses}
    updates = [
        u if u.id is None or u.id.lower() in known else replace(u, id=None)
        for u in reply.hypotheses
    ]
    return replace(reply, hypotheses=updates)


def _reported(options: ThinkdeepOptions) -> str:
    if not options.manual:
        return ""
    lines = []
    if options.findings:
        lines.append(f"Findings: {options.findings}")
    if options.hypothesis:
        lines.append(f"Hypothesis: {options.hypothesis}")
    if options.confidence:
        lines.append(f"Confidence: {options.confidence}")
    if not lines:
        return "\nInvestigate that step and report what it shows."
    return (
        "\nThe investigator reports:\n"
        + "\n".join(lines)
        + "\nAnalyse this step: do the findings support or refute the hypotheses, "
        "and what should be checked next?"
    )


def _reply_warnings(reply: StepReply, step: Step, options: ThinkdeepOptions) -> list[str]:
    """What the stored ``step`` took from an unstructured or incomplete reply; what the
    agent stated in a manual step was not taken from the reply, so it is not warned about."""
    findings_given = options.manual and options.findings is not None
    confidence_given = options.manual and options.confidence is not None
    if reply.shape == "prose":
        kept = [] if findings_given else ["its text was kept as the findings"]
        if not confidence_given:
            kept.append(f"the confidence stays {step.confidence}")
        if not kept:
            return []
        return [
            f"Step {step.step_number}: the reply had no JSON or labelled fields; "
            + " and ".join(kept)
            + "."
        ]
    if reply.confidence is None and not confidence_given:
        return [
            f"Step {step.step_number}: no confidence level in the reply; "
            f"it stays {step.confidence}."
        ]
    return []


def manual_turn(prompt: str, number: int, options: ThinkdeepOptions) -> str:
    """The user turn of a manual step, in the shape legacy threads used."""
    lines = [prompt.strip()] if prompt.strip() else []
    lines.append(f"Step {number}: {options.step}")
    if options.findings:
        lines.append(f"Findings: {options.findings}")
    if options.hypothesis:
        lines.append(f"Hypothesis: {options.hypothesis}")
    if options.confidence:
        lines.append(f"Confidence: {options.confidence}")
    return "\n".join(lines)


def render_state(state: InvestigationState) -> str:
    """The investigation as the next step (or the expert) reads it."""
    lines = ["Investigation so far:"]
    for step in state.steps:
        who = f"{step.provider}, " if step.provider else ""
        lines.append(
            f"\nStep {step.step_number} ({who}confidence {step.confidence}): {step.step}".rstrip(
                ": "
            )
        )
        if step.findings:
            lines.append(f"Findings: {step.findings}")
        if step.analysis:
            lines.append(f"Analysis: {step.analysis}")
    if state.hypotheses:
        lines.append("\nHypotheses:")
        for h in state.hypotheses:
            evidence = f" — evidence: {'; '.join(h.evidence)}" if h.evidence else ""
            lines.append(f"- {h.id} [{h.status}] {h.text}{evidence}")
    lines.append(f"\nCurrent confidence: {state.confidence}")
    if state.relevant_files:
        lines.append("Files examined: " + ", ".join(state.relevant_files))
    return "\n".join(lines)


def report_markdown(state: InvestigationState, run_steps: list[int]) -> str:
    """The headline answer: confidence, hypotheses, this run's steps, the expert's verdict."""
    lines = [f"**Question:** {state.question}", "", f"**Confidence:** {state.confidence}", ""]
    if state.hypotheses:
        lines.append("## Hypotheses")
        for h in state.hypotheses:
            lines.append(f"- **{h.id}** [{h.status}] {h.text}")
            lines.extend(f"  - {e}" for e in h.evidence)
        lines.append("")
    lines.append("## Steps")
    for step in state.steps:
        if step.step_number not in run_steps:
            continue
        lines.append(f"### Step {step.step_number}: {step.step} ({step.confidence})")
        lines.append(step.findings or "_no findings_")
        if step.analysis:
            lines.append(f"\n_Analysis:_ {step.analysis}")
        if step.next_step:
            lines.append(f"\n_Next:_ {step.next_step}")
        lines.append("")
    if expert := state.expert_validation:
        lines.append(f"## Expert review ({expert.get('provider')})")
        lines.append(f"**Verdict:** {expert.get('verdict') or 'none given'}")
        if expert.get("reasoning"):
            lines.append("")
            lines.append(str(expert["reasoning"]))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# --- the stored investigation, for `thinkdeep-status` -----------------------------------


def load_investigation(store: ConversationDatabase, thread_id: str) -> InvestigationState:
    """The thread's stored investigation; one with no steps stored (a legacy thread
    imported without its state) gets them rebuilt from its "Step N: ..." turns."""
    state = InvestigationState.from_dict(store.get_state(thread_id, STATE_KEY))
    if not state.steps:
        state.steps_from_turns(store.get_messages(thread_id))
    return state


def investigation_status(
    store: ConversationDatabase, id_or_prefix: str, *, include_steps: bool = False
) -> dict[str, Any]:
    """The stored investigation of a thread as a document; no model is called.

    An unknown id raises ThreadNotFoundError; a thread of another workflow is an InputError.
    """
    thread = store.get_thread(
        id_or_prefix, with_messages=False, workflow=ThinkdeepWorkflow.info.name
    )
    if thread.workflow != ThinkdeepWorkflow.info.name:
        raise InputError(
            f"Thread {thread.id} is a {thread.workflow} conversation, not a thinkdeep "
            "investigation.",
            hint=f"Show it with `model-chorus threads show {thread.id[:8]}`.",
        )
    state = load_investigation(store, thread.id)
    document: dict[str, Any] = {
        "workflow": thread.workflow,
        "thread_id": thread.id,
        "title": thread.title,
        "status": str(thread.status),
        "created_at": thread.created_at.isoformat(),
        "updated_at": thread.updated_at.isoformat(),
        "question": state.question or thread.title,
        "confidence": state.confidence,
        "step_count": len(state.steps),
        "last_step": state.steps[-1].to_dict() if state.steps else None,
        "hypotheses": [h.to_dict() for h in state.hypotheses],
        "relevant_files": state.relevant_files,
        "expert_validation": state.expert_validation,
    }
    if include_steps:
        document["steps"] = [s.to_dict() for s in state.steps]
    return document
