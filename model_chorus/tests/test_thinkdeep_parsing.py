"""thinkdeep's state model and reply parsers, on realistic and legacy shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model_chorus.workflows.investigation import (
    HypothesisUpdate,
    InvestigationState,
    confidence_rank,
    parse_confidence,
    parse_status,
)
from model_chorus.workflows.thinkdeep_replies import (
    normalise_verdict,
    parse_expert_reply,
    parse_step_reply,
)

LEGACY_FILE = (
    Path(__file__).parent / "data" / "legacy" / "46188f4b-bf15-490a-b56d-5e810ce989eb.json"
)
LEGACY_STATE = {
    "hypotheses": [
        {
            "hypothesis": "Clock skew between servers",
            "evidence": ["Tokens expire early"],
            "status": "validated",
        }
    ],
    "steps": [
        {
            "step_number": 1,
            "findings": "Tokens expire early",
            "files_checked": [],
            "confidence": "low",
        },
        {
            "step_number": 2,
            "findings": "NTP disabled on node-3",
            "files_checked": ["ops/ntp.conf"],
            "confidence": "very_high",
        },
    ],
    "current_confidence": "very_high",
    "relevant_files": ["src/auth.py"],
}


@pytest.mark.parametrize(
    ("value", "level"),
    [
        ("high", "high"),
        ("Very High", "very_high"),
        ("very_high", "very_high"),
        ("**almost certain**", "almost_certain"),
        ("Almost-certain", "almost_certain"),
        ("certain", "certain"),
        ("moderate", "medium"),
        ("high (about 80%)", "high"),
        ("92%", "very_high"),
        (0.5, "medium"),
        (100, "certain"),
        ("exploring", "exploring"),
        ("no idea", None),
        ("", None),
        (None, None),
        (True, None),
        ("150%", None),
    ],
)
def test_confidence_levels(value: object, level: str | None) -> None:
    assert parse_confidence(value) == level


def test_confidence_order() -> None:
    assert confidence_rank("exploring") < confidence_rank("high") < confidence_rank("certain")


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("validated", "validated"),
        ("Confirmed", "validated"),
        ("[disproven]", "disproven"),
        ("ruled out", "disproven"),
        ("Rejected.", "disproven"),
        ("open", "active"),
        ("unconfirmed", "active"),
        ("unlikely", None),
        (None, None),
    ],
)
def test_hypothesis_statuses(value: object, status: str | None) -> None:
    assert parse_status(value) == status


def test_legacy_state_is_normalised() -> None:
    state = InvestigationState.from_dict(LEGACY_STATE)
    assert state.confidence == "very_high"
    assert [(h.id, h.text, h.status, h.evidence) for h in state.hypotheses] == [
        ("H1", "Clock skew between servers", "validated", ["Tokens expire early"])
    ]
    assert [(s.step_number, s.step, s.findings, s.mode) for s in state.steps] == [
        (1, "", "Tokens expire early", "legacy"),
        (2, "", "NTP disabled on node-3", "legacy"),
    ]
    assert state.relevant_files == ["src/auth.py", "ops/ntp.conf"]
    assert state.next_step_number == 3
    # Written back, it is in today's shape and reads back the same.
    again = InvestigationState.from_dict(state.to_dict())
    assert again.to_dict() == state.to_dict()
    assert "current_confidence" not in state.to_dict()


def test_the_real_legacy_file_state_reads() -> None:
    raw = json.loads(LEGACY_FILE.read_text(encoding="utf-8"))
    state = InvestigationState.from_dict(raw["state"]["thinkdeep"])
    assert state.confidence == "very_high"
    assert [h.text for h in state.hypotheses] == ["Clock skew between servers"]
    assert len(state.steps) == 2


@pytest.mark.parametrize("raw", [None, {}, {"steps": "x", "hypotheses": 3}, {"confidence": "??"}])
def test_missing_or_broken_state_is_an_empty_investigation(raw: object) -> None:
    state = InvestigationState.from_dict(raw)  # type: ignore[arg-type]
    assert (state.steps, state.hypotheses, state.confidence) == ([], [], "exploring")


def test_confidence_falls_back_to_the_last_step() -> None:
    state = InvestigationState.from_dict({"steps": [{"findings": "x", "confidence": "medium"}]})
    assert state.confidence == "medium"
    assert state.steps[0].step_number == 1


def test_merging_hypotheses_by_id_by_text_and_new() -> None:
    state = InvestigationState.from_dict(LEGACY_STATE)
    h1 = state.merge_hypothesis(HypothesisUpdate(text="", id="h1", evidence=["ntp off"]))
    assert h1 is not None and h1.evidence == ["Tokens expire early", "ntp off"]
    same = state.merge_hypothesis(
        HypothesisUpdate(text="clock skew between the servers", status="disproven")
    )
    assert same is h1 and h1.status == "disproven"
    new = state.merge_hypothesis(HypothesisUpdate(text="Expired signing key"))
    assert new is not None and (new.id, new.status) == ("H2", "active")
    assert state.merge_hypothesis(HypothesisUpdate(text="", id="H9")) is None
    assert len(state.hypotheses) == 2


# --- step replies ---------------------------------------------------------------------


def test_step_reply_json_with_prose_around_it() -> None:
    reply = (
        "I looked at the auth module.\n\n```json\n"
        '{"findings": "Token expiry uses local time (auth.py:42).", "hypotheses": ['
        '{"id": "H1", "status": "validated", "evidence": "auth.py:42 uses time.time()"}, '
        '{"text": "Clock skew between nodes", "status": "active"}], '
        '"confidence": "Very High", "next_step": "none", "files_checked": ["src/auth.py"]}\n```'
    )
    parsed = parse_step_reply(reply)
    assert parsed.shape == "json"
    assert parsed.findings == "Token expiry uses local time (auth.py:42)."
    assert parsed.confidence == "very_high"
    assert parsed.next_step is None  # "none" means done
    assert parsed.files_checked == ["src/auth.py"]
    assert [(h.id, h.text, h.status, h.evidence) for h in parsed.hypotheses] == [
        ("H1", "", "validated", ["auth.py:42 uses time.time()"]),
        (None, "Clock skew between nodes", "active", []),
    ]


def test_step_reply_json_with_list_findings_and_string_hypotheses() -> None:
    reply = '{"findings": ["a", "b"], "hypothesis": "Clock skew", "confidence": 0.9}'
    parsed = parse_step_reply(reply)
    assert parsed.findings == "- a\n- b"
    assert [h.text for h in parsed.hypotheses] == ["Clock skew"]
    assert parsed.confidence == "very_high"


def test_step_reply_labelled_markdown() -> None:
    reply = (
        "## Step 2\n\n"
        "**Findings:** NTP is disabled on node-3; its clock is 95 s behind.\n"
        "Tokens issued there expire early.\n\n"
        "**Hypothesis 1 (validated):** Clock skew between servers\n"
        "Hypothesis: Cache eviction bug — disproven\n\n"
        "**Confidence:** high\n"
        "**Next step:** Check the NTP config on the other nodes\n"
        "Files checked: `src/auth.py`, config/ntp.conf"
    )
    parsed = parse_step_reply(reply)
    assert parsed.shape == "labelled"
    assert parsed.findings == (
        "NTP is disabled on node-3; its clock is 95 s behind.\nTokens issued there expire early."
    )
    assert [(h.id, h.text, h.status) for h in parsed.hypotheses] == [
        ("H1", "Clock skew between servers", "validated"),
        (None, "Cache eviction bug", "disproven"),
    ]
    assert parsed.confidence == "high"
    assert parsed.next_step == "Check the NTP config on the other nodes"
    assert parsed.files_checked == ["src/auth.py", "config/ntp.conf"]


def test_step_reply_hypotheses_as_a_list_section() -> None:
    reply = "Hypotheses:\n- Clock skew (active)\n- Bad signing key [ruled out]\n\nConfidence: 60%"
    parsed = parse_step_reply(reply)
    assert [(h.text, h.status) for h in parsed.hypotheses] == [
        ("Clock skew", "active"),
        ("Bad signing key", "disproven"),
    ]
    assert parsed.confidence == "medium"
    assert parsed.findings == ""


def test_step_reply_prose_keeps_the_text_as_findings() -> None:
    reply = "I think it's probably the clocks, but I'm not sure. Let me look more."
    parsed = parse_step_reply(reply)
    assert parsed.shape == "prose"
    assert parsed.findings == reply
    assert parsed.confidence is None and parsed.hypotheses == []


# --- expert replies -------------------------------------------------------------------


def test_expert_reply_json() -> None:
    reply = (
        '```json\n{"verdict": "Partially agree", "reasoning": "Skew explains most.", '
        '"confidence": "medium", "concerns": ["node-2 not checked"]}\n```'
    )
    parsed = parse_expert_reply(reply)
    assert (parsed.verdict, parsed.reasoning, parsed.confidence, parsed.concerns) == (
        "partially_agree",
        "Skew explains most.",
        "medium",
        ["node-2 not checked"],
    )


def test_expert_reply_labelled_and_prose() -> None:
    parsed = parse_expert_reply(
        "Verdict: Agree\nReasoning: The evidence is solid.\n\nConcerns:\n- node-2 unchecked"
    )
    assert (parsed.verdict, parsed.reasoning, parsed.concerns, parsed.shape) == (
        "agree",
        "The evidence is solid.",
        ["node-2 unchecked"],
        "labelled",
    )
    prose = parse_expert_reply("Looks fine to me.")
    assert (prose.verdict, prose.reasoning, prose.shape) == (None, "Looks fine to me.", "prose")


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("Agree", "agree"),
        ("I disagree.", "disagree"),
        ("Mostly agree", "partially_agree"),
        ("Inconclusive", "uncertain"),
        ("The conclusion is sound", "agree"),
        ("Needs more data on node-2", "Needs more data on node-2"),
    ],
)
def test_verdicts(text: str, verdict: str) -> None:
    assert normalise_verdict(text) == verdict
