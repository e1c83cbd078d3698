"""Reading thinkdeep's model replies: a step's findings and hypotheses, an expert's verdict.

Asked for JSON, models also answer with labelled markdown ("**Findings:**",
"Hypothesis (validated): ...", "Confidence: high") or plain prose. The parsers
take what they find and report how much that was; they never raise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from model_chorus.workflows.investigation import (
    HypothesisUpdate,
    parse_confidence,
    parse_status,
)
from model_chorus.workflows.replies import (
    extract_json_object,
    extract_list_items,
    find_labelled,
    find_labelled_block,
    find_section_items,
)

ReplyShape = Literal["json", "labelled", "prose"]

#: Findings kept from a reply that has no structure at all (its whole text).
PROSE_FINDINGS_CHARS = 4_000

_HYPOTHESIS_LINE = re.compile(
    r"^[^\w\n]*hypothes[ie]s(?:[ \t]*#?[ \t]*(?P<num>\d+))?[ \t]*"
    r"(?:[(\[](?P<status1>[^)\]\n]{1,30})[)\]])?[^\w\n]*?[ \t]*[:\-–—][ \t]*\**[ \t]*"
    r"(?P<text>.+?)[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_TRAILING_STATUS = re.compile(
    r"[ \t]*(?:[(\[](?:status:?[ \t]*)?(?P<s1>[^)\]]{1,30})[)\]]|[—–-][ \t]*(?:status:?[ \t]*)?"
    r"(?P<s2>active|validated|confirmed|disproven|rejected|ruled out|refuted|open))[ \t.]*$",
    re.IGNORECASE,
)


@dataclass
class StepReply:
    findings: str = ""
    hypotheses: list[HypothesisUpdate] = field(default_factory=list)
    confidence: str | None = None
    next_step: str | None = None
    files_checked: list[str] = field(default_factory=list)
    #: How the reply was read: "prose" means nothing structured was found.
    shape: ReplyShape = "prose"


@dataclass
class ExpertReply:
    verdict: str | None
    reasoning: str
    confidence: str | None = None
    concerns: list[str] = field(default_factory=list)
    shape: ReplyShape = "prose"


def parse_step_reply(text: str) -> StepReply:
    data = extract_json_object(text, "findings", "hypotheses", "confidence", "next_step")
    if data is not None:
        return _step_from_json(data)
    reply = StepReply(shape="labelled")
    reply.findings = find_labelled_block(text, "Findings") or ""
    reply.confidence = parse_confidence(find_labelled(text, "Confidence"))
    reply.next_step = _none_if_done(
        find_labelled(text, "Next step") or find_labelled(text, "Next steps")
    )
    files = find_labelled(text, "Files checked") or find_labelled(text, "Files examined")
    reply.files_checked = _split_files(files) if files else []
    reply.hypotheses = _hypotheses_from_labels(text)
    if not (reply.findings or reply.confidence or reply.hypotheses):
        return StepReply(findings=text.strip()[:PROSE_FINDINGS_CHARS], shape="prose")
    return reply


def parse_expert_reply(text: str) -> ExpertReply:
    data = extract_json_object(text, "verdict", "reasoning", "assessment")
    if data is not None:
        stated = _text(data.get("verdict") or data.get("assessment"))
        return ExpertReply(
            verdict=normalise_verdict(stated) if stated else None,
            reasoning=_text(data.get("reasoning") or data.get("reason") or data.get("explanation")),
            confidence=parse_confidence(data.get("confidence")),
            concerns=_string_list(data.get("concerns") or data.get("issues")),
            shape="json",
        )
    verdict = find_labelled(text, "Verdict") or find_labelled(text, "Assessment")
    reasoning = find_labelled_block(text, "Reasoning") or find_labelled_block(text, "Reason")
    concerns = find_section_items(text, "Concerns") or []
    if verdict is None and reasoning is None:
        return ExpertReply(verdict=None, reasoning=text.strip(), shape="prose")
    return ExpertReply(
        verdict=normalise_verdict(verdict) if verdict else None,
        reasoning=reasoning or text.strip(),
        confidence=parse_confidence(find_labelled(text, "Confidence")),
        concerns=concerns,
        shape="labelled",
    )


def normalise_verdict(text: str) -> str:
    """Map "Agree", "I partially agree", "Disagree." onto agree / partially_agree /
    disagree / uncertain; anything else is kept as the model wrote it (shortened)."""
    lowered = text.lower()
    if re.search(r"\bpartial(ly)?\b|\bsomewhat\b|\bmostly\b", lowered):
        return "partially_agree"
    if re.search(r"\b(disagree|reject|incorrect|wrong)\b", lowered):
        return "disagree"
    if re.search(r"\b(agree|confirm|correct|valid|sound|accept)", lowered):
        return "agree"
    if re.search(r"\b(uncertain|unsure|unclear|inconclusive|cannot tell)\b", lowered):
        return "uncertain"
    return text.strip()[:80]


def _step_from_json(data: dict[str, Any]) -> StepReply:
    raw = data.get("hypotheses")
    if raw is None and data.get("hypothesis") is not None:
        raw = [data["hypothesis"]]
    hypotheses = []
    for item in raw if isinstance(raw, list) else [raw] if raw else []:
        if isinstance(item, str) and item.strip():
            hypotheses.append(HypothesisUpdate(text=item.strip()))
        elif isinstance(item, dict):
            text = _text(item.get("text") or item.get("hypothesis") or item.get("description"))
            hid = _text(item.get("id"))
            if text or hid:
                hypotheses.append(
                    HypothesisUpdate(
                        text=text,
                        status=parse_status(item.get("status")),
                        evidence=_string_list(item.get("evidence")),
                        id=hid or None,
                    )
                )
    findings = data.get("findings")
    return StepReply(
        findings="\n".join(f"- {f}" for f in _string_list(findings))
        if isinstance(findings, list)
        else _text(findings),
        hypotheses=hypotheses,
        confidence=parse_confidence(data.get("confidence")),
        next_step=_none_if_done(_text(data.get("next_step") or data.get("next"))),
        files_checked=_string_list(data.get("files_checked") or data.get("files")),
        shape="json",
    )


def _hypotheses_from_labels(text: str) -> list[HypothesisUpdate]:
    """From "Hypothesis: X (validated)", "Hypothesis 2 [disproven]: Y" or a "Hypotheses:" list."""
    found: list[HypothesisUpdate] = []
    for match in _HYPOTHESIS_LINE.finditer(text):
        body = match.group("text").strip()
        status = parse_status(match.group("status1")) if match.group("status1") else None
        body, trailing = _split_status(body)
        hid = f"H{match.group('num')}" if match.group("num") else None
        found.append(HypothesisUpdate(text=body, status=status or trailing, id=hid))
    if not found:
        for item in find_section_items(text, "Hypotheses") or []:
            body, status = _split_status(item)
            found.append(HypothesisUpdate(text=body, status=status))
    return [h for h in found if h.text]


def _split_status(text: str) -> tuple[str, str | None]:
    """Split "Clock skew (validated)" into ("Clock skew", "validated")."""
    match = _TRAILING_STATUS.search(text)
    if match:
        status = parse_status(match.group("s1") or match.group("s2"))
        if status:
            return text[: match.start()].strip(" *"), status
    return text.strip(" *"), None


def _split_files(text: str) -> list[str]:
    parts = re.split(r"[,;]\s*|\s+and\s+", text)
    files = [p.strip(" `*") for p in parts]
    return [f for f in files if f and f.lower() not in ("none", "n/a", "-")]


def _none_if_done(text: str | None) -> str | None:
    if not text or text.strip().lower().rstrip(".") in ("none", "n/a", "done", "nothing", "-"):
        return None
    return text.strip()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value).strip()


def _string_list(value: Any) -> list[str]:
    if isinstance(value, str):
        items = extract_list_items(value)
        return items or ([value.strip()] if value.strip() else [])
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return []
