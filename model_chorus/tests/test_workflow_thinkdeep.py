"""thinkdeep over in-process providers and a temporary store.

The tests follow the investigation's information flow: what each step's
prompt carried from the earlier steps, what was parsed and merged, what was
stored after each step, how a manual step and an imported legacy thread
continue, and what the expert saw.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from model_chorus.errors import (
    AllProvidersFailedError,
    InputError,
    ProviderAuthError,
    ProviderRateLimitError,
    StoreError,
    ThreadNotFoundError,
    TurnNotSavedError,
    WorkflowError,
)
from model_chorus.events import EventKind, WorkflowEvent
from model_chorus.models import Attachment, Role
from model_chorus.providers.base import ModelProvider
from model_chorus.store.database import ConversationDatabase
from model_chorus.store.legacy import import_legacy
from model_chorus.tests.middleware_doubles import ScriptedProvider, fail, ok
from model_chorus.tests.other_run import Interfering, other_store
from model_chorus.tests.store_faults import disk_full_after
from model_chorus.tests.workflow_helpers import workflow_env
from model_chorus.workflows.base import WorkflowRequest
from model_chorus.workflows.thinkdeep import STATE_KEY, ThinkdeepWorkflow, investigation_status

QUESTION = "Why do logins fail?"
LEGACY_DIR = Path(__file__).parent / "data" / "legacy"
LEGACY_ID = "46188f4b-bf15-490a-b56d-5e810ce989eb"


def step_reply(findings: str, confidence: str, *hypotheses: dict[str, Any], **extra: Any) -> str:
    body = {"findings": findings, "hypotheses": list(hypotheses), "confidence": confidence, **extra}
    return "Here is this step.\n```json\n" + json.dumps(body) + "\n```"


STEP_1 = step_reply(
    "Tokens expire 90 s early (auth.py:42).",
    "low",
    {"text": "Clock skew between servers", "status": "active", "evidence": ["expiry early"]},
    next_step="Compare the clocks of the nodes",
    files_checked=["src/auth.py"],
)
STEP_2 = step_reply(
    "node-3 is 95 s behind.",
    "medium",
    {"id": "H1", "evidence": ["node-3 clock behind"]},
    {"text": "Token cache eviction bug", "status": "active"},
    next_step="Check NTP on node-3",
)
STEP_3 = step_reply(
    "NTP is disabled on node-3.",
    "high",
    {"id": "H1", "status": "validated"},
    {"id": "H2", "status": "disproven"},
    next_step="none",
)
EXPERT = (
    '```json\n{"verdict": "Agree", "reasoning": "The NTP finding explains the skew.", '
    '"confidence": "high", "concerns": ["node-2 unchecked"]}\n```'
)


def make(
    store: ConversationDatabase,
    providers: list[ModelProvider],
    *,
    roles: dict[str, ModelProvider] | None = None,
    events: list[WorkflowEvent] | None = None,
) -> ThinkdeepWorkflow:
    return ThinkdeepWorkflow(workflow_env(store, providers, roles=roles, events=events))


def ask(prompt: str = QUESTION, thread_id: str | None = None, **options: Any) -> WorkflowRequest:
    return WorkflowRequest(prompt=prompt, thread_id=thread_id, options=options)


def prompts(provider: ScriptedProvider) -> list[str]:
    return [r.prompt for r in provider.requests]


async def test_autonomous_steps_carry_earlier_findings_until_the_target(
    store: ConversationDatabase,
) -> None:
    claude = ScriptedProvider("claude", ok(STEP_1), ok(STEP_2), ok(STEP_3))
    events: list[WorkflowEvent] = []
    request = ask(max_steps=5, target_confidence="high")
    request.attachments = [Attachment("src/auth.py", "def login(): ...", tokens=5)]

    result = await make(store, [claude], events=events).run(request)

    assert claude.calls == 3  # high reached at step 3 of at most 5
    first, second, third = prompts(claude)
    assert f"Question: {QUESTION}" in first and "Nothing has been investigated yet." in first
    for prompt in (first, second, third):
        assert '<file path="src/auth.py">' in prompt
    # Step 2 sees step 1's findings, the hypothesis it raised, the confidence and its next step.
    assert "Findings: Tokens expire 90 s early (auth.py:42)." in second
    assert "- H1 [active] Clock skew between servers — evidence: expiry early" in second
    assert "Current confidence: low" in second
    assert "The previous step suggested: Compare the clocks of the nodes" in second
    # Step 3 sees both earlier steps and both hypotheses.
    assert "Findings: node-3 is 95 s behind." in third
    assert "- H2 [active] Token cache eviction bug" in third
    assert "evidence: expiry early; node-3 clock behind" in third

    data = result.data
    assert data["confidence"] == "high"
    assert [(h["id"], h["status"]) for h in data["hypotheses"]] == [
        ("H1", "validated"),
        ("H2", "disproven"),
    ]
    assert [(s["step_number"], s["step"], s["confidence"]) for s in data["steps"]] == [
        (1, "Initial investigation", "low"),
        (2, "Compare the clocks of the nodes", "medium"),
        (3, "Check NTP on node-3", "high"),
    ]
    assert data["relevant_files"] == ["src/auth.py"]
    assert data["run"] == {
        "mode": "autonomous",
        "steps": [1, 2, 3],
        "stopped": "target_reached",
        "target_confidence": "high",
        "max_steps": 5,
    }
    assert result.warnings == []
    assert "**Confidence:** high" in result.content
    steps = [e.message for e in events if e.kind == EventKind.STEP]
    assert steps == ["step 1 (1/5): claude…", "step 2 (2/5): claude…", "step 3 (3/5): claude…"]

    stored = store.get_state(result.thread_id, STATE_KEY)
    assert stored is not None
    assert stored == {k: v for k, v in data.items() if k != "run"}
    messages = store.get_messages(result.thread_id)
    assert [(m.role, m.metadata.get("step_number")) for m in messages] == [
        (Role.USER, 1),
        (Role.ASSISTANT, 1),
        (Role.ASSISTANT, 2),
        (Role.ASSISTANT, 3),
    ]
    assert messages[0].files == ["src/auth.py"]
    assert store.get_thread(result.thread_id).title == QUESTION


async def test_steps_stop_at_max_steps_below_the_target(store: ConversationDatabase) -> None:
    claude = ScriptedProvider("claude", ok(step_reply("Nothing yet.", "low")))
    result = await make(store, [claude]).run(ask(max_steps=2, target_confidence="very high"))
    assert claude.calls == 2
    assert result.data["run"]["stopped"] == "max_steps"
    assert result.data["run"]["target_confidence"] == "very_high"
    assert "This is step 2 of at most 2." in prompts(claude)[1]


async def test_continuing_runs_more_steps_with_the_new_direction(
    store: ConversationDatabase,
) -> None:
    claude = ScriptedProvider("claude", ok(STEP_1), ok(STEP_2))
    first = await make(store, [claude]).run(ask(max_steps=1))
    second = await make(store, [claude]).run(
        ask("Look at the load balancer", thread_id=first.thread_id, max_steps=1)
    )
    prompt = prompts(claude)[1]
    assert "New direction from the user: Look at the load balancer" in prompt
    assert "Findings: Tokens expire 90 s early" in prompt
    assert "<conversation_history>" in prompt
    assert second.continued and second.data["run"]["steps"] == [2]
    assert [s["step_number"] for s in second.data["steps"]] == [1, 2]
    assert second.data["steps"][1]["step"] == "Look at the load balancer"
    assert len(store.get_messages(first.thread_id)) == 4


async def test_manual_step_without_a_prompt_starts_a_thread(store: ConversationDatabase) -> None:
    analysis = step_reply(
        "NTP off explains a drifting clock.",
        "medium",
        {"text": "Clock skew", "evidence": ["drift matches the expiry gap"]},
        next_step="Check the other nodes",
    )
    claude = ScriptedProvider("claude", ok(analysis))
    result = await make(store, [claude]).run(
        ask(
            "",
            step="Check NTP config",
            findings="NTP disabled on node-3",
            hypothesis="Clock skew",
            confidence="high",
        )
    )
    [prompt] = prompts(claude)
    assert "Question: Check NTP config" in prompt
    assert "The investigator took this step: Check NTP config" in prompt
    assert "Findings: NTP disabled on node-3\nHypothesis: Clock skew\nConfidence: high" in prompt

    [step] = result.data["steps"]
    assert step["step"] == "Check NTP config"
    assert step["findings"] == "NTP disabled on node-3"  # the agent's findings win
    assert step["analysis"] == "NTP off explains a drifting clock."
    assert step["mode"] == "manual"
    assert result.data["confidence"] == "high"  # the agent's confidence wins over "medium"
    assert result.data["hypotheses"] == [
        {
            "id": "H1",
            "text": "Clock skew",
            "status": "active",
            "evidence": ["NTP disabled on node-3", "drift matches the expiry gap"],
        }
    ]
    assert result.data["run"]["mode"] == "manual"
    thread = store.get_thread(result.thread_id)
    assert thread.title == "Check NTP config"
    assert thread.messages[0].content == (
        "Step 1: Check NTP config\nFindings: NTP disabled on node-3\n"
        "Hypothesis: Clock skew\nConfidence: high"
    )


async def test_manual_step_continues_an_imported_legacy_thread(
    store: ConversationDatabase, tmp_path: Path
) -> None:
    folder = tmp_path / "legacy"
    folder.mkdir()
    shutil.copy(LEGACY_DIR / f"{LEGACY_ID}.json", folder)
    assert import_legacy(store, folder).imported == [LEGACY_ID]

    claude = ScriptedProvider(
        "claude", ok(step_reply("Consistent with skew.", "very_high", {"id": "H1"}))
    )
    result = await make(store, [claude]).run(
        ask(
            "",
            thread_id=LEGACY_ID,
            step="Check node-2",
            findings="node-2 also drifts",
            hypothesis="Clock skew between servers",
        )
    )
    [prompt] = prompts(claude)
    assert "Findings: NTP disabled on node-3" in prompt  # from the legacy state
    assert "- H1 [validated] Clock skew between servers — evidence: Tokens expire early" in prompt
    assert "Current confidence: very_high" in prompt
    assert "<conversation_history>" in prompt

    assert result.continued
    assert [s["step_number"] for s in result.data["steps"]] == [1, 2, 3]
    assert len(result.data["hypotheses"]) == 1  # matched by text, not duplicated
    assert result.data["hypotheses"][0]["evidence"] == ["Tokens expire early", "node-2 also drifts"]
    stored = store.get_state(LEGACY_ID, STATE_KEY)
    assert stored is not None and "current_confidence" not in stored
    assert stored["confidence"] == "very_high"
    assert stored["question"].startswith("Step 1/2: Investigate login failures")


async def test_expert_reviews_the_full_state(store: ConversationDatabase) -> None:
    claude = ScriptedProvider("claude", ok(STEP_1), ok(STEP_3))
    codex = ScriptedProvider("codex", ok(EXPERT))
    request = ask(max_steps=2)
    request.model = "opus"
    result = await make(store, [claude], roles={"expert": codex}).run(request)

    [prompt] = prompts(codex)
    assert "Review the" in prompt and f"Question: {QUESTION}" in prompt
    assert "Findings: Tokens expire 90 s early (auth.py:42)." in prompt
    assert "Findings: NTP is disabled on node-3." in prompt
    assert "- H1 [validated] Clock skew between servers" in prompt
    assert codex.requests[0].model is None and claude.requests[0].model == "opus"

    expert = result.data["expert_validation"]
    assert expert["provider"] == "codex"
    assert expert["verdict"] == "agree"
    assert expert["reasoning"] == "The NTP finding explains the skew."
    assert expert["concerns"] == ["node-2 unchecked"]
    assert expert["after_step"] == 2
    assert store.get_state(result.thread_id, STATE_KEY)["expert_validation"] == expert  # type: ignore[index]
    last = store.get_messages(result.thread_id)[-1]
    assert (last.provider, last.metadata["role"]) == ("codex", "expert")
    assert "## Expert review (codex)" in result.content


async def test_a_failing_expert_leaves_the_investigation_unreviewed(
    store: ConversationDatabase,
) -> None:
    claude = ScriptedProvider("claude", ok(STEP_3))
    codex = ScriptedProvider("codex", fail(ProviderAuthError))
    result = await make(store, [claude], roles={"expert": codex}).run(ask(max_steps=1))
    assert result.data["expert_validation"] is None
    assert [(f.provider, f.kind) for f in result.failures] == [("codex", "auth_error")]
    assert any("Expert validation failed" in w for w in result.warnings)


async def test_a_first_step_failure_stores_nothing(store: ConversationDatabase) -> None:
    claude = ScriptedProvider("claude", fail(ProviderRateLimitError))
    with pytest.raises(AllProvidersFailedError, match="thinkdeep step 1"):
        await make(store, [claude]).run(ask())
    assert store.list_threads() == []


async def test_a_later_step_failure_keeps_the_earlier_steps(store: ConversationDatabase) -> None:
    claude = ScriptedProvider("claude", ok(STEP_1), fail(ProviderRateLimitError))
    with pytest.raises(WorkflowError) as caught:
        await make(store, [claude]).run(ask(max_steps=3))
    assert caught.value.step == "step 2"
    [thread] = store.list_threads()
    assert caught.value.hint is not None and thread.id in caught.value.hint
    stored = store.get_state(thread.id, STATE_KEY)
    assert stored is not None and [s["step_number"] for s in stored["steps"]] == [1]


async def test_a_later_step_failure_names_its_thread_and_the_step_once(
    store: ConversationDatabase,
) -> None:
    claude = ScriptedProvider("claude", ok(STEP_1), ok(STEP_2), fail(ProviderAuthError))
    with pytest.raises(WorkflowError) as caught:
        await make(store, [claude]).run(ask(max_steps=4))
    [thread] = store.list_threads()
    assert caught.value.thread_id == thread.id
    assert caught.value.message.startswith("step 3: ")
    assert caught.value.message.lower().count("step 3") == 1, caught.value.message
    assert "claude (auth_error" in caught.value.message


async def test_a_first_step_failure_has_no_thread_id(store: ConversationDatabase) -> None:
    claude = ScriptedProvider("claude", fail(ProviderAuthError))
    with pytest.raises(AllProvidersFailedError) as caught:
        await make(store, [claude]).run(ask(max_steps=2))
    assert getattr(caught.value, "thread_id", None) is None


async def test_a_fallback_provider_takes_a_failed_step(store: ConversationDatabase) -> None:
    claude = ScriptedProvider("claude", fail(ProviderRateLimitError))
    gemini = ScriptedProvider("gemini", ok(STEP_3))
    result = await make(store, [claude, gemini]).run(ask(max_steps=1))
    assert result.data["steps"][0]["provider"] == "gemini"
    assert [(f.provider, f.kind) for f in result.failures] == [("claude", "rate_limited")]


async def test_an_unstructured_reply_degrades_with_a_warning(store: ConversationDatabase) -> None:
    claude = ScriptedProvider("claude", ok("Probably the clocks. I would look at NTP next."))
    result = await make(store, [claude]).run(ask(max_steps=1))
    step = result.data["steps"][0]
    assert step["findings"] == "Probably the clocks. I would look at NTP next."
    assert result.data["confidence"] == "exploring"
    assert result.warnings == [
        "Step 1: the reply had no JSON or labelled fields; its text was kept as the findings "
        "and the confidence stays exploring."
    ]


@pytest.mark.parametrize(
    ("given", "warnings"),
    [
        # The agent's findings and confidence are stored: nothing came from the reply.
        ({"findings": "NTP off", "confidence": "high"}, []),
        # The findings are the agent's, the confidence the reply could not give.
        (
            {"findings": "NTP off"},
            ["Step 1: the reply had no JSON or labelled fields; the confidence stays exploring."],
        ),
        (
            {"confidence": "medium"},
            [
                "Step 1: the reply had no JSON or labelled fields; its text was kept as the "
                "findings."
            ],
        ),
    ],
)
async def test_a_manual_step_warns_only_about_what_the_reply_supplied(
    store: ConversationDatabase, given: dict[str, str], warnings: list[str]
) -> None:
    claude = ScriptedProvider("claude", ok("Looks plausible to me."))
    result = await make(store, [claude]).run(ask(step="Check NTP", **given))
    assert result.warnings == warnings
    [step] = result.data["steps"]
    assert step["findings"] == given.get("findings", "Looks plausible to me.")
    assert step["confidence"] == given.get("confidence", "exploring")


async def test_a_manual_step_with_a_json_reply_but_no_confidence_keeps_the_agents_quietly(
    store: ConversationDatabase,
) -> None:
    reply = "```json\n" + json.dumps({"findings": "Consistent."}) + "\n```"
    claude = ScriptedProvider("claude", ok(reply))
    result = await make(store, [claude]).run(ask(step="Check NTP", confidence="high"))
    assert result.warnings == []
    assert result.data["confidence"] == "high"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"findings": "x"}, "manual step"),
        ({"step": "s", "confidence": "sure-ish"}, "--confidence"),
        ({"target_confidence": "maximal"}, "--target-confidence"),
        ({"max_steps": 0}, "--max-steps"),
        ({"max_steps": 21}, "--max-steps"),
    ],
)
async def test_bad_options_are_input_errors(
    store: ConversationDatabase, options: dict[str, Any], message: str
) -> None:
    claude = ScriptedProvider("claude")
    with pytest.raises(InputError, match=message):
        await make(store, [claude]).run(ask(**options))
    assert claude.calls == 0


async def test_status_document_from_the_store(store: ConversationDatabase) -> None:
    claude = ScriptedProvider("claude", ok(STEP_1), ok(STEP_2))
    result = await make(store, [claude]).run(ask(max_steps=2))
    brief = investigation_status(store, result.thread_id[:8])
    assert brief["thread_id"] == result.thread_id
    assert (brief["question"], brief["confidence"], brief["step_count"]) == (QUESTION, "medium", 2)
    assert brief["last_step"]["findings"] == "node-3 is 95 s behind."
    assert "steps" not in brief
    full = investigation_status(store, result.thread_id, include_steps=True)
    assert [s["step_number"] for s in full["steps"]] == [1, 2]
    assert claude.calls == 2  # the status asked no model


def test_status_of_unknown_and_foreign_threads(store: ConversationDatabase) -> None:
    with pytest.raises(ThreadNotFoundError):
        investigation_status(store, "0123abcd-0000-0000-0000-000000000000")
    chat = store.create_thread("chat", title="hello")
    with pytest.raises(InputError, match="not a thinkdeep"):
        investigation_status(store, chat.id)


async def test_a_step_another_run_stores_meanwhile_is_kept_and_read(
    store: ConversationDatabase,
) -> None:
    other_db = other_store(store.path)
    session = {"text": "Session store evicts keys", "status": "active"}
    gemini = ScriptedProvider(
        "gemini", ok(step_reply("Sessions vanish under load.", "low", session))
    )
    other = make(other_db, [gemini])
    # This run's step 2 names its new hypothesis "H2": it only knew H1 when asked.
    mine = {"id": "H2", "text": "Token cache eviction bug", "status": "active"}
    scripted = ScriptedProvider(
        "claude",
        ok(STEP_1),
        ok(step_reply("node-3 is 95 s behind.", "medium", mine)),
        ok(step_reply("NTP is off on node-3.", "high", {"id": "H1", "status": "validated"})),
    )
    claude = Interfering(
        scripted,
        # Step 1 is stored; another run continues the investigation while step 2 is asked.
        lambda: other.run(
            ask("Look at sessions", thread_id=store.list_threads()[0].id, max_steps=1)
        ),
        on_call=2,
    )
    try:
        result = await make(store, [claude]).run(ask(max_steps=3))
    finally:
        other_db.close()

    state = store.get_state(result.thread_id, STATE_KEY)
    assert state is not None
    assert [(s["step_number"], s["provider"]) for s in state["steps"]] == [
        (1, "claude"),
        (2, "gemini"),  # the other run's step, stored first
        (3, "claude"),
        (4, "claude"),
    ]
    assert [(h["id"], h["text"], h["status"]) for h in state["hypotheses"]] == [
        ("H1", "Clock skew between servers", "validated"),
        ("H2", "Session store evicts keys", "active"),
        ("H3", "Token cache eviction bug", "active"),  # not merged into the other's H2
    ]
    assert state["confidence"] == "high"
    # This run went on from the state as stored: its last step read the other's findings.
    assert "Findings: Sessions vanish under load." in scripted.requests[2].prompt
    assert result.data["run"]["steps"] == [1, 3, 4]
    assert {k: v for k, v in result.data.items() if k != "run"} == state
    messages = store.get_messages(result.thread_id)
    assert [m.metadata.get("step_number") for m in messages] == [1, 1, 2, 2, 3, 4]


async def test_a_step_that_cannot_be_saved_still_returns_its_findings(
    store: ConversationDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk_full_after(monkeypatch, saves=1)  # step 1 is stored, step 2 is not
    claude = ScriptedProvider("claude", ok(STEP_1), ok(STEP_2), ok(STEP_3))

    with pytest.raises(TurnNotSavedError) as caught:
        await make(store, [claude]).run(ask(max_steps=3))

    error = caught.value
    [thread] = store.list_threads()
    assert (error.kind, error.thread_stored, error.result.thread_id) == (
        "not_saved",
        True,
        thread.id,
    )
    assert isinstance(error.cause, StoreError)
    assert f"step 1 is saved in thread {thread.id}" in error.message
    assert claude.calls == 2  # no step is asked after a failed save
    assert error.result.data["run"]["steps"] == [1, 2]
    assert "node-3 is 95 s behind." in error.result.content
    state = store.get_state(thread.id, STATE_KEY)
    assert state is not None and [s["step_number"] for s in state["steps"]] == [1]


async def test_a_first_step_that_cannot_be_saved_creates_no_thread(
    store: ConversationDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk_full_after(monkeypatch)
    claude = ScriptedProvider("claude", ok(STEP_1))

    with pytest.raises(TurnNotSavedError) as caught:
        await make(store, [claude]).run(ask(max_steps=1))

    assert caught.value.thread_stored is False
    assert "no thread was created" in caught.value.message
    assert "Tokens expire 90 s early" in caught.value.result.content
    assert store.list_threads() == []


async def test_each_step_and_the_review_is_saved_on_its_own(
    store: ConversationDatabase,
) -> None:
    first = await make(store, [ScriptedProvider("claude", ok(STEP_1))]).run(ask(max_steps=1))
    assert store.get_state_and_version(first.thread_id, STATE_KEY)[1] == 1

    claude = ScriptedProvider("claude", ok(STEP_2), ok(STEP_3))
    expert = ScriptedProvider("codex", ok(EXPERT))
    second = make(store, [claude], roles={"expert": expert})
    result = await second.run(ask("Go on", thread_id=first.thread_id, max_steps=2))

    # Two steps and the review: three saves on top of the first run's one.
    assert result.data["run"]["steps"] == [2, 3]
    assert store.get_state_and_version(first.thread_id, STATE_KEY)[1] == 4
    stored = store.get_state(first.thread_id, STATE_KEY)
    assert stored is not None and stored["expert_validation"]["provider"] == "codex"


async def test_a_manual_step_makes_the_prompt_optional(store: ConversationDatabase) -> None:
    from model_chorus.workflows.registry import all_workflows

    declared = {info.name: info.prompt_optional_with for info in all_workflows()}
    assert declared["thinkdeep"] == ("step",)
    assert all(names == () for name, names in declared.items() if name != "thinkdeep")
    assert ThinkdeepWorkflow.info.to_dict()["prompt_optional_with"] == ["step"]
    # What the declaration promises: with --step and no prompt, the step is the question.
    claude = ScriptedProvider("claude", ok(STEP_1))
    result = await make(store, [claude]).run(ask("", step="Check NTP on node-3"))
    assert result.data["question"] == "Check NTP on node-3"


LEGACY_STATELESS_ID = "59f06478-2191-43ee-91a5-942f715ee498"


def import_stateless_legacy(store: ConversationDatabase, tmp_path: Path) -> None:
    """A legacy thinkdeep thread whose steps live only in its turns (no state block)."""
    folder = tmp_path / "legacy"
    folder.mkdir()
    shutil.copy(LEGACY_DIR / f"{LEGACY_STATELESS_ID}.json", folder)
    assert import_legacy(store, folder).imported == [LEGACY_STATELESS_ID]
    assert store.get_state(LEGACY_STATELESS_ID, STATE_KEY) is None


async def test_a_legacy_thread_without_state_shows_its_steps_from_the_turns(
    store: ConversationDatabase, tmp_path: Path
) -> None:
    import_stateless_legacy(store, tmp_path)
    status = investigation_status(store, LEGACY_STATELESS_ID, include_steps=True)
    assert status["step_count"] == 1
    [step] = status["steps"]
    assert (step["step_number"], step["step"], step["findings"]) == (
        1,
        "check auth",
        "token expiry",
    )
    assert step["mode"] == "legacy"
    assert step["analysis"] == "Hypothesis: race condition in token refresh"


async def test_continuing_a_legacy_thread_without_state_numbers_after_its_steps(
    store: ConversationDatabase, tmp_path: Path
) -> None:
    import_stateless_legacy(store, tmp_path)
    claude = ScriptedProvider("claude", ok(STEP_2))
    result = await make(store, [claude]).run(
        ask("Look at the refresh path", thread_id=LEGACY_STATELESS_ID, max_steps=1)
    )
    [prompt] = prompts(claude)
    assert "Step 1 (gemini, confidence exploring): check auth\nFindings: token expiry" in prompt
    assert [s["step_number"] for s in result.data["steps"]] == [1, 2]
    assert result.data["run"]["steps"] == [2]
    status = investigation_status(store, LEGACY_STATELESS_ID, include_steps=True)
    assert [(s["step_number"], s["step"]) for s in status["steps"]] == [
        (1, "check auth"),
        (2, "Look at the refresh path"),
    ]
