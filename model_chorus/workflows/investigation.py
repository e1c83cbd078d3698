"""thinkdeep's investigation state: steps, hypotheses, confidence, files, expert verdict.

Stored under the thread-state key "thinkdeep". ``InvestigationState.from_dict``
also reads the shape the earlier JSON-file version wrote (imported threads are
continued), so every reader goes through it. Some legacy threads were saved
with no state at all, their steps only in user turns ("Step 1/3: ...",
"Findings: ..."); ``steps_from_turns`` rebuilds those steps.

    legacy: {hypotheses: [{hypothesis, evidence, status}],
             steps: [{step_number, findings, files_checked, confidence}],
             current_confidence, relevant_files}
    now:    {question, hypotheses: [{id, text, status, evidence}],
             steps: [{step_number, step, findings, files_checked, confidence, ...}],
             confidence, relevant_files, expert_validation}
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from model_chorus.models import Message, Role
from model_chorus.workflows.similarity import similar_text

CONFIDENCE_LEVELS = (
    "exploring",
    "low",
    "medium",
    "high",
    "very_high",
    "almost_certain",
    "certain",
)
HYPOTHESIS_STATUSES = ("active", "validated", "disproven")

_STATUS_WORDS = {
    "validated": (
        "validated",
        "confirmed",
        "supported",
        "proven",
        "proved",
        "verified",
        "accepted",
        "true",
        "correct",
    ),
    "disproven": (
        "disproven",
        "disproved",
        "rejected",
        "refuted",
        "ruled out",
        "false",
        "invalidated",
        "eliminated",
        "incorrect",
        "discarded",
    ),
    "active": ("active", "open", "pending", "investigating", "unconfirmed", "possible", "new"),
}
#: Phrases checked longest first, so "very high" is not read as "high".
_CONFIDENCE_WORDS = sorted(
    {
        "almost certain": "almost_certain",
        "almost_certain": "almost_certain",
        "near certain": "almost_certain",
        "nearly certain": "almost_certain",
        "very high": "very_high",
        "very_high": "very_high",
        "certain": "certain",
        "high": "high",
        "medium": "medium",
        "moderate": "medium",
        "low": "low",
        "exploring": "exploring",
        "very low": "exploring",
        "none": "exploring",
    }.items(),
    key=lambda kv: -len(kv[0]),
)


def confidence_rank(level: str) -> int:
    return CONFIDENCE_LEVELS.index(level)


def parse_confidence(value: Any) -> str | None:
    """A level from "Very High", "very_high", "**high**", "85%" or 0.85; None when unreadable.

    Percentages map as: 100 certain, ≥95 almost_certain, ≥85 very_high,
    ≥70 high, ≥50 medium, ≥25 low, else exploring.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return _from_percent(float(value) * (100 if 0 <= value <= 1 else 1))
    text = " ".join(str(value).lower().replace("-", " ").replace("*", "").split())
    if not text:
        return None
    if match := re.search(r"(\d+(?:\.\d+)?)\s*%", text):
        return _from_percent(float(match.group(1)))
    if text.replace("_", " ").replace(" ", "_") in CONFIDENCE_LEVELS:
        return text.replace(" ", "_")
    for phrase, level in _CONFIDENCE_WORDS:
        if re.search(rf"\b{re.escape(phrase)}\b", text):
            return level
    return None


def _from_percent(percent: float) -> str | None:
    if not 0 <= percent <= 100:
        return None
    for floor, level in (
        (100, "certain"),
        (95, "almost_certain"),
        (85, "very_high"),
        (70, "high"),
        (50, "medium"),
        (25, "low"),
    ):
        if percent >= floor:
            return level
    return "exploring"


def parse_status(value: Any) -> str | None:
    """A hypothesis status from "Confirmed", "ruled out", "[validated]"; None when unreadable."""
    text = " ".join(str(value or "").lower().replace("_", " ").split())
    for status, words in _STATUS_WORDS.items():
        if any(re.search(rf"\b{re.escape(w)}\b", text) for w in words):
            return status
    return None


@dataclass
class Hypothesis:
    id: str
    text: str
    status: str = "active"
    evidence: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "status": self.status, "evidence": self.evidence}


@dataclass
class Step:
    step_number: int
    step: str = ""
    findings: str = ""
    files_checked: list[str] = field(default_factory=list)
    confidence: str = "exploring"
    #: "auto" (the model chose the step), "manual" (an agent recorded it), "legacy" (imported).
    mode: str = "auto"
    provider: str | None = None
    next_step: str | None = None
    #: The model's reading of a manual step whose findings the agent supplied.
    analysis: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "step_number": self.step_number,
            "step": self.step,
            "findings": self.findings,
            "files_checked": self.files_checked,
            "confidence": self.confidence,
            "mode": self.mode,
            "provider": self.provider,
            "next_step": self.next_step,
            "analysis": self.analysis,
        }


@dataclass
class HypothesisUpdate:
    """A hypothesis as a reply or an agent states it; merged into the state by id or text."""

    text: str
    status: str | None = None
    evidence: list[str] = field(default_factory=list)
    id: str | None = None


@dataclass
class InvestigationState:
    question: str = ""
    steps: list[Step] = field(default_factory=list)
    hypotheses: list[Hypothesis] = field(default_factory=list)
    confidence: str = "exploring"
    relevant_files: list[str] = field(default_factory=list)
    expert_validation: dict[str, Any] | None = None

    @property
    def next_step_number(self) -> int:
        return max((s.step_number for s in self.steps), default=0) + 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "steps": [s.to_dict() for s in self.steps],
            "hypotheses": [h.to_dict() for h in self.hypotheses],
            "confidence": self.confidence,
            "relevant_files": self.relevant_files,
            "expert_validation": self.expert_validation,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> InvestigationState:
        """The stored state in today's shape, whether it was written now or by the legacy store."""
        data = data if isinstance(data, dict) else {}
        state = cls(question=str(data.get("question") or ""))
        for n, raw in enumerate(_dicts(data.get("steps")), start=1):
            state.steps.append(_step_from(raw, n))
        for raw in _dicts(data.get("hypotheses")) + _strings_as_dicts(data.get("hypotheses")):
            text = str(raw.get("text") or raw.get("hypothesis") or "").strip()
            if not text:
                continue
            hid = str(raw.get("id") or "") or f"H{len(state.hypotheses) + 1}"
            if any(h.id == hid for h in state.hypotheses):
                hid = state.next_hypothesis_id()
            state.hypotheses.append(
                Hypothesis(
                    id=hid,
                    text=text,
                    status=parse_status(raw.get("status")) or "active",
                    evidence=_strings(raw.get("evidence")),
                )
            )
        confidence = parse_confidence(data.get("confidence") or data.get("current_confidence"))
        if confidence is None and state.steps:
            confidence = state.steps[-1].confidence
        state.confidence = confidence or "exploring"
        files = _strings(data.get("relevant_files"))
        files += [f for s in state.steps for f in s.files_checked]
        state.relevant_files = list(dict.fromkeys(files))
        expert = data.get("expert_validation")
        state.expert_validation = expert if isinstance(expert, dict) else None
        return state

    def next_hypothesis_id(self) -> str:
        numbers = [int(h.id[1:]) for h in self.hypotheses if re.fullmatch(r"H\d+", h.id)]
        return f"H{max(numbers, default=0) + 1}"

    def merge_hypothesis(self, update: HypothesisUpdate) -> Hypothesis | None:
        """Update the hypothesis ``update`` refers to (by id, else by similar text) or add it.

        None when it refers to an unknown id and has no text of its own to add.
        """
        target = None
        if update.id:
            target = next((h for h in self.hypotheses if h.id.lower() == update.id.lower()), None)
        if target is None and update.text:
            target = next((h for h in self.hypotheses if similar_text(h.text, update.text)), None)
        if target is None:
            if not update.text:
                return None
            target = Hypothesis(id=self.next_hypothesis_id(), text=update.text)
            self.hypotheses.append(target)
        if update.status:
            target.status = update.status
        for item in update.evidence:
            if item and item not in target.evidence:
                target.evidence.append(item)
        return target

    def add_files(self, files: list[str]) -> None:
        self.relevant_files = list(dict.fromkeys([*self.relevant_files, *files]))

    def steps_from_turns(self, messages: list[Message]) -> None:
        """Rebuild the steps (and stated hypotheses) of a thread whose state never held them.

        A step is a user turn with a "Step N: ..." or "Step N/M: ..." line; its
        "Findings:", "Hypothesis:" and "Confidence:" lines are read, and the model's
        reply that follows is kept as the step's analysis. Without this, such a thread
        showed no steps and its next step was numbered 1 again.
        """
        for index, message in enumerate(messages):
            if message.role != Role.USER:
                continue
            match = _STEP_LINE.search(message.content)
            if match is None:
                continue
            findings = _turn_field(message.content, "Findings") or ""
            stated = parse_confidence(_turn_field(message.content, "Confidence"))
            for text in _turn_fields(message.content, "Hypothesis"):
                self.merge_hypothesis(
                    HypothesisUpdate(text=text, evidence=[findings] if findings else [])
                )
            self.confidence = stated or self.confidence
            reply = next(
                (m for m in messages[index + 1 : index + 2] if m.role == Role.ASSISTANT), None
            )
            self.steps.append(
                Step(
                    step_number=max(int(match.group(1)), self.next_step_number),
                    step=match.group(2).strip(),
                    findings=findings,
                    confidence=self.confidence,
                    mode="legacy",
                    provider=reply.provider if reply else None,
                    analysis=reply.content.strip()[:_ANALYSIS_CHARS] or None if reply else None,
                )
            )


#: A rebuilt step keeps this much of the model's reply as its analysis.
_ANALYSIS_CHARS = 4_000
_STEP_LINE = re.compile(r"^[ \t]*Step[ \t]+(\d+)(?:[ \t]*/[ \t]*\d+)?[ \t]*:[ \t]*(.*)$", re.M)


def _turn_fields(text: str, label: str) -> list[str]:
    """The values of every "Label: value" line of a user turn, in order."""
    pattern = rf"^[ \t]*{label}[ \t]*:[ \t]*(.+?)[ \t]*$"
    return [m.group(1) for m in re.finditer(pattern, text, re.M | re.I)]


def _turn_field(text: str, label: str) -> str | None:
    found = _turn_fields(text, label)
    return found[0] if found else None


def _step_from(raw: dict[str, Any], position: int) -> Step:
    number = raw.get("step_number")
    return Step(
        step_number=number if isinstance(number, int) and number > 0 else position,
        step=str(raw.get("step") or ""),
        findings=str(raw.get("findings") or ""),
        files_checked=_strings(raw.get("files_checked")),
        confidence=parse_confidence(raw.get("confidence")) or "exploring",
        mode=str(raw.get("mode") or ("legacy" if "step" not in raw else "auto")),
        provider=raw.get("provider") if isinstance(raw.get("provider"), str) else None,
        next_step=raw.get("next_step") if isinstance(raw.get("next_step"), str) else None,
        analysis=raw.get("analysis") if isinstance(raw.get("analysis"), str) else None,
    )


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _strings_as_dicts(value: Any) -> list[dict[str, Any]]:
    return [{"text": v} for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _strings(value: Any) -> list[str]:
    """A list of non-empty strings from a list, a single string, or nothing."""
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str | int | float) and str(v).strip()]
    return []
