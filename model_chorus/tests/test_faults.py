"""Fault tests with the fake tools: every failure mode through the real providers and chain.

For each mode: is it retried and how often, does it fall back, does it open
the breaker, what does the user see, what is recorded. Retries use no backoff
here (``initial_delay = 0``) so the file runs in seconds; backoff and deadline
arithmetic are covered with virtual time in ``test_middleware_retry.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from model_chorus.config import Settings
from model_chorus.errors import (
    ProviderError,
    ProviderNotInstalledError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)
from model_chorus.events import EventKind, WorkflowEvent
from model_chorus.models import GenerationRequest
from model_chorus.providers.base import ModelProvider
from model_chorus.providers.middleware import (
    AttemptLog,
    BreakerState,
    RateLimiterRegistry,
    breaker_status,
    build_chain,
)
from model_chorus.providers.registry import create_provider
from model_chorus.store.database import ConversationDatabase
from model_chorus.tests.fakes import FakeTools
from model_chorus.tests.middleware_doubles import settle
from model_chorus.tests.processes import alive
from model_chorus.workflows.runner import WorkflowRunner

TOOLS = ("claude", "gemini", "codex", "cursor-agent")


def settings(**overrides: Any) -> Settings:
    data: dict[str, Any] = {
        "retry": {"max_attempts": 3, "initial_delay": 0, "jitter": 0},
        "breaker": {"failure_threshold": 3, "reset_timeout": 60},
    }
    data.update(overrides)
    return Settings(**data)


class Run:
    """One command run: its database handle, attempt log, events and chains."""

    def __init__(self, db_path: Path, cfg: Settings, *, use_breaker: bool = True) -> None:
        self.cfg = cfg
        self.db = ConversationDatabase(db_path)
        self.attempts = AttemptLog()
        self.events: list[WorkflowEvent] = []
        self.limiters = RateLimiterRegistry()
        self.use_breaker = use_breaker
        self.chains: list[ModelProvider] = []

    def provider(self, name: str) -> ModelProvider:
        chain = build_chain(
            create_provider(name, self.cfg),
            settings=self.cfg,
            store=self.db,
            correlation_id="run",
            attempts=self.attempts,
            workflow="chat",
            use_breaker=self.use_breaker,
            events=self.events.append,
            rate_limiter_registry=self.limiters,
        )
        self.chains.append(chain)
        return chain

    async def close(self) -> None:
        """End the run as a command does: its call records written, then the database closed."""
        for chain in self.chains:
            await settle(chain)
        self.db.close()

    async def outcomes(self, name: str) -> list[str]:
        """The call records of ``name``, once every chain's background writes are done."""
        for chain in self.chains:
            await settle(chain)
        return [r.outcome for r in self.db.call_records() if r.provider == name]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "chorus.db"


@pytest.fixture
def run(db_path: Path) -> Iterator[Run]:
    current = Run(db_path, settings())
    yield current
    current.db.close()


def ask(prompt: str = "What is WAL mode?", timeout: float | None = None) -> GenerationRequest:
    return GenerationRequest(prompt=prompt, timeout=timeout)


async def logged(fake_tools: FakeTools, tool: str, count: int = 1) -> None:
    """Wait until ``tool`` has logged ``count`` calls (it is running)."""
    for _ in range(3000):  # generous: a loaded CI machine starts processes slowly
        if len(fake_tools.calls(tool)) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{tool} never started")


async def gone(pids: list[int]) -> list[int]:
    """The pids still alive once SIGKILL has had time to land (it is asynchronous)."""
    for _ in range(250):
        if not any(alive(pid) for pid in pids):
            return []
        await asyncio.sleep(0.02)
    return [pid for pid in pids if alive(pid)]


def tool_pids(fake_tools: FakeTools, tool: str) -> list[int]:
    return [pid for call in fake_tools.calls(tool) for pid in (call.pid, call.child_pid) if pid]


# --- transient faults: retried, then answered -----------------------------------------

TRANSIENT = [
    ("claude", "rate_limit", "rate_limited"),
    ("gemini", "overloaded", "overloaded"),
    ("codex", "server_error", "overloaded"),
    ("cursor-agent", "connection", "connection_error"),
    ("gemini", "crash", "crashed"),
    ("codex", "rate_limit", "rate_limited"),
]


@pytest.mark.parametrize(("tool", "mode", "kind"), TRANSIENT)
async def test_a_transient_fault_is_retried_and_recorded(
    fake_tools: FakeTools, run: Run, tool: str, mode: str, kind: str
) -> None:
    fake_tools.script(tool, [{"mode": mode}, {"reply": "recovered"}])

    response = await run.provider(tool).generate(ask())

    assert response.content == "recovered"
    assert response.attempts == 2
    assert len(fake_tools.calls(tool)) == 2
    assert await run.outcomes(tool) == [kind, "ok"]
    assert [(e.kind, e.data["reason"]) for e in run.events] == [(EventKind.RETRY, kind)]
    # One failed attempt absorbed by the retry is no failure for the breaker.
    status = breaker_status(run.db, tool, run.cfg)
    assert (status.state, status.failures) == (BreakerState.CLOSED, 0)


async def test_a_persistent_transient_fault_gives_up_after_max_attempts(
    fake_tools: FakeTools, run: Run
) -> None:
    fake_tools.set("gemini", mode="overloaded")

    with pytest.raises(ProviderError) as caught:
        await run.provider("gemini").generate(ask())

    assert caught.value.kind == "overloaded"
    assert caught.value.message.endswith("(gave up after 3 attempts)")
    assert caught.value.hint
    assert len(fake_tools.calls("gemini")) == 3
    assert await run.outcomes("gemini") == ["overloaded"] * 3
    assert breaker_status(run.db, "gemini", run.cfg).failures == 1


# --- permanent faults: no retry, fall back ---------------------------------------------

PERMANENT = [
    ("gemini", "auth", "auth_error", "gemini"),
    ("claude", "no_login", "auth_error", "claude"),
    ("codex", "bad_request", "bad_request", None),
    ("cursor-agent", "garbage", "bad_output", None),
]


@pytest.mark.parametrize(("tool", "mode", "kind", "hint_word"), PERMANENT)
async def test_a_permanent_fault_is_not_retried_and_falls_back(
    fake_tools: FakeTools, run: Run, tool: str, mode: str, kind: str, hint_word: str | None
) -> None:
    fake_tools.set(tool, mode=mode)
    fallback = "claude" if tool != "claude" else "gemini"
    fake_tools.set(fallback, reply="from the fallback")
    runner = WorkflowRunner(run.events.append)

    outcome = await runner.sequential([run.provider(tool), run.provider(fallback)], ask())

    [error] = outcome.errors
    assert (error.provider, error.kind) == (tool, kind)
    assert "gave up" not in error.message
    if hint_word:
        assert hint_word in (error.hint or "")
    assert [r.content for r in outcome.responses] == ["from the fallback"]
    assert len(fake_tools.calls(tool)) == 1
    assert await run.outcomes(tool) == [kind]
    assert EventKind.FALLBACK in [e.kind for e in run.events]
    assert EventKind.RETRY not in [e.kind for e in run.events]
    assert breaker_status(run.db, tool, run.cfg).failures == 0


async def test_a_missing_tool_is_reported_with_its_install_command(
    fake_tools: FakeTools, run: Run
) -> None:
    fake_tools.path_without("gemini")

    with pytest.raises(ProviderNotInstalledError) as caught:
        await run.provider("gemini").generate(ask())

    assert "npm install -g @google/gemini-cli" in (caught.value.hint or "")
    assert "list-providers" in (caught.value.hint or "")
    assert await run.outcomes("gemini") == ["not_installed"]


# --- hung tools, timeouts and cancellation --------------------------------------------


async def test_a_hung_tool_is_killed_at_the_timeout_with_its_whole_process_group(
    fake_tools: FakeTools, run: Run
) -> None:
    fake_tools.set("codex", mode="hang")

    with pytest.raises(ProviderTimeoutError) as caught:
        await run.provider("codex").generate(ask(timeout=0.5))

    # The deadline was used up by the first attempt: no retry was started.
    [call] = fake_tools.calls("codex")
    assert call.child_pid is not None
    assert await gone([call.pid, call.child_pid]) == []
    assert "did not answer within 0.5 s" in caught.value.message
    assert await run.outcomes("codex") == ["timeout"]


async def test_first_answer_wins_and_the_losers_processes_are_killed(
    fake_tools: FakeTools, run: Run
) -> None:
    fake_tools.set("gemini", mode="hang")
    fake_tools.set("codex", mode="hang")
    fake_tools.set("claude", reply="fast answer", latency=0.5)

    outcome = await WorkflowRunner().first(
        [run.provider("gemini"), run.provider("claude"), run.provider("codex")], ask(timeout=30)
    )

    assert [r.content for r in outcome.responses] == ["fast answer"]
    losers = tool_pids(fake_tools, "gemini") + tool_pids(fake_tools, "codex")
    assert len(losers) == 4  # each loser and the helper it spawned
    assert await gone(losers) == []
    assert await run.outcomes("gemini") == ["cancelled"]


async def test_cancelling_the_command_leaves_no_tool_running(
    fake_tools: FakeTools, run: Run
) -> None:
    """Ctrl-C cancels the command's task; every tool process group must be gone after."""
    for tool in TOOLS:
        fake_tools.set(tool, mode="hang")
    providers = [run.provider(tool) for tool in TOOLS]
    command = asyncio.create_task(WorkflowRunner().parallel(providers, ask(timeout=60)))
    for tool in TOOLS:
        await logged(fake_tools, tool)
    pids = [pid for tool in TOOLS for pid in tool_pids(fake_tools, tool)]
    assert len(pids) == 8 and all(alive(pid) for pid in pids)

    command.cancel()
    with pytest.raises(asyncio.CancelledError):
        await command

    assert await gone(pids) == []
    assert [a.outcome for a in run.attempts] == ["cancelled"] * 4


# --- the breaker, across processes -------------------------------------------------------


async def test_the_breaker_opens_and_the_next_process_does_not_call_the_tool(
    fake_tools: FakeTools, db_path: Path
) -> None:
    fake_tools.set("gemini", mode="rate_limit")
    cfg = settings(
        retry={"max_attempts": 2, "initial_delay": 0, "jitter": 0}, breaker={"failure_threshold": 2}
    )
    for _ in range(2):  # two commands, each its own process and database handle
        command = Run(db_path, cfg)
        with pytest.raises(ProviderError):
            await command.provider("gemini").generate(ask())
        await command.close()
    assert len(fake_tools.calls("gemini")) == 4

    third = Run(db_path, cfg)
    outcome = await WorkflowRunner().sequential(
        [third.provider("gemini"), third.provider("claude")], ask()
    )
    await third.close()

    assert len(fake_tools.calls("gemini")) == 4
    [error] = outcome.errors
    assert isinstance(error, ProviderUnavailableError)
    assert "gemini failed 2 times in a row; next try after" in (error.hint or "")
    assert error.hint is not None and error.hint.endswith("or use --no-breaker.")
    assert outcome.responses[0].provider == "claude"

    no_breaker = Run(db_path, cfg, use_breaker=False)
    with pytest.raises(ProviderError) as caught:
        await no_breaker.provider("gemini").generate(ask())
    await no_breaker.close()
    assert caught.value.kind == "rate_limited"
    assert len(fake_tools.calls("gemini")) == 6
