"""Fan-out bench: four providers that each answer in 1.0 s, through the full chain, in parallel.

Target (issue 4): the ``parallel`` policy's wall time is within 10 % of 1.0 s,
the slowest provider being the limit. Two scenarios, both through the full
middleware chain (breaker, retry, rate-limit registry, telemetry writing call
records to a real SQLite database) and ``WorkflowRunner.parallel``:

* ``fake CLI tools`` — the real Claude/Gemini/Codex/cursor-agent providers
  driving the fake tool executables with ``FAKE_<TOOL>_LATENCY=1.0``: what a
  fan-out costs end to end, process start-up included.
* ``in-process`` — providers that only ``await asyncio.sleep(1.0)``: the
  runner's and the middleware's own overhead, with no process in the way.

Then the multi-model workflows (issue 5): ``consensus`` and ``ideate`` over the
four fake tools, wired as the CLI wires them, next to what their calls would
cost in sequence: wall time follows the rounds of calls, not their number.

Per call, "overhead" is the time the runner saw for the call minus the time
telemetry measured around the bare provider (innermost layer): what the
runner, breaker, retry, rate limiter and call recording add. "tool process"
is the bare provider's time minus the 1.0 s the tool slept: spawning the
fake, its Python start-up and parsing its output.

Run: ``.venv/bin/python scripts/bench_fanout.py [--runs 5] [--latency 1.0]``.
Everything it writes goes to a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from model_chorus.config import BUILTIN_PROVIDERS, Settings
from model_chorus.models import GenerationRequest, GenerationResponse, new_id
from model_chorus.providers.base import ModelProvider
from model_chorus.providers.middleware import AttemptLog, RateLimiterRegistry, build_chain
from model_chorus.providers.registry import create_provider
from model_chorus.store.database import ConversationDatabase
from model_chorus.workflows.runner import WorkflowRunner

FAKES_BIN = Path(__file__).resolve().parent.parent / "model_chorus" / "tests" / "fakes" / "bin"
TOLERANCE = 0.10


class SleepProvider:
    """In-process provider that answers after ``latency`` seconds."""

    def __init__(self, name: str, latency: float) -> None:
        self.name = name
        self.latency = latency

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        await asyncio.sleep(self.latency)
        return GenerationResponse(content="ok", provider=self.name, latency_s=self.latency)


class Stopwatch:
    """Outermost wrapper: the call's time as the runner sees it."""

    def __init__(self, inner: ModelProvider, seen: dict[str, float]) -> None:
        self.inner = inner
        self.name = inner.name
        self.seen = seen

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        started = time.perf_counter()
        try:
            return await self.inner.generate(request)
        finally:
            self.seen[self.name] = time.perf_counter() - started


@dataclass
class Figures:
    walls: list[float] = field(default_factory=list)
    #: Wall time minus the slowest call as the runner saw it: the cost of fanning out.
    fanout_ms: list[float] = field(default_factory=list)
    overhead_ms: list[float] = field(default_factory=list)
    process_ms: list[float] = field(default_factory=list)
    failures: int = 0


async def one_run(
    make: dict[str, ModelProvider | None],
    settings: Settings,
    db: ConversationDatabase,
    latency: float,
    figures: Figures,
) -> None:
    log = AttemptLog()
    limiters = RateLimiterRegistry()
    seen: dict[str, float] = {}
    correlation = new_id()
    providers: list[ModelProvider] = []
    for name, bare in make.items():
        inner = bare if bare is not None else create_provider(name, settings)
        chain = build_chain(
            inner,
            settings=settings,
            store=db,
            correlation_id=correlation,
            attempts=log,
            workflow="bench",
            rate_limiter_registry=limiters,
        )
        providers.append(Stopwatch(chain, seen))
    request = GenerationRequest(prompt="Say OK.", timeout=30)

    started = time.perf_counter()
    outcome = await WorkflowRunner().parallel(providers, request)
    wall = time.perf_counter() - started
    figures.walls.append(wall)
    figures.fanout_ms.append((wall - max(seen.values())) * 1000)

    figures.failures += len(outcome.errors)
    for attempt in log:
        figures.overhead_ms.append((seen[attempt.provider] - attempt.latency_s) * 1000)
        figures.process_ms.append((attempt.latency_s - latency) * 1000)


async def bench(runs: int, latency: float, workdir: Path) -> list[tuple[str, Figures]]:
    settings = Settings()
    results = []
    scenarios: list[tuple[str, dict[str, ModelProvider | None]]] = [
        # Baseline: what one tool costs alone (its process start-up included).
        ("1 fake CLI tool", {"claude": None}),
        ("4 fake CLI tools", dict.fromkeys(BUILTIN_PROVIDERS)),
        ("4 in-process", {name: SleepProvider(name, latency) for name in BUILTIN_PROVIDERS}),
    ]
    with ConversationDatabase(workdir / "bench.db") as db:
        for label, make in scenarios:
            await one_run(make, settings, db, latency, Figures())  # warm-up
            figures = Figures()
            for _ in range(runs):
                await one_run(make, settings, db, latency, figures)
            results.append((label, figures))
    return results


def prepare_environment(workdir: Path, latency: float) -> None:
    os.environ["PATH"] = f"{FAKES_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    os.environ["FAKE_PYTHON"] = sys.executable
    os.environ["FAKE_LOG_DIR"] = str(workdir / "fake-log")
    os.environ["FAKE_STATE_DIR"] = str(workdir / "fake-state")
    for name in list(os.environ):
        if name.startswith("MODEL_CHORUS_") or (
            name.startswith("FAKE_") and name.endswith(("_MODE", "_SCRIPT", "_REPLY"))
        ):
            del os.environ[name]
    for tool in BUILTIN_PROVIDERS:
        os.environ[f"FAKE_{tool.upper().replace('-', '_')}_LATENCY"] = str(latency)
    os.chdir(workdir)


def report(results: list[tuple[str, Figures]], runs: int, latency: float) -> bool:
    """Print the table; True when every four-provider scenario met the target."""
    limit = latency * (1 + TOLERANCE)
    columns = (
        f"{'scenario':<17}{'wall p50':>9}{'wall max':>9}{'fan-out':>9}"
        f"{'overhead/call':>15}{'max':>8}{'tool process':>14}  result"
    )
    print(
        f"Each provider answers in {latency:g} s; WorkflowRunner.parallel over the full "
        f"middleware chain; {runs} runs after a warm-up; target median wall ≤ {limit:.2f} s."
    )
    print(columns)
    print("-" * len(columns))
    passed = True
    for label, f in results:
        # The median run is the figure; the worst run is shown beside it.
        ok = statistics.median(f.walls) <= limit and f.failures == 0
        if label.startswith("4"):
            passed = passed and ok
        process = "—" if "in-process" in label else f"{statistics.median(f.process_ms):.0f} ms"
        print(
            f"{label:<17}{statistics.median(f.walls):>8.3f}s{max(f.walls):>8.3f}s"
            f"{statistics.median(f.fanout_ms):>6.1f} ms"
            f"{statistics.median(f.overhead_ms):>12.2f} ms{max(f.overhead_ms):>5.1f} ms"
            f"{process:>14}  {'PASS' if ok else 'FAIL'}"
            + (f" ({f.failures} failed calls)" if f.failures else "")
        )
    print(
        "fan-out: wall minus the slowest call · overhead/call: runner + middleware "
        "(p50, max) · tool process: spawn + start-up + parsing (p50)"
    )
    return passed


#: Brainstorm replies the fakes give in the ideate scenario (parseable ideas).
IDEAS_REPLY = "1. Cache dependencies\n2. Shard the test suite\n3. Skip unaffected jobs\n"


async def bench_workflows(
    runs: int, latency: float, workdir: Path
) -> list[tuple[str, list[float], int, int]]:
    """consensus and ideate over the four fake tools, wired exactly as the CLI wires them.

    Returns (workflow, walls, provider calls per run, rounds of calls per run): a
    workflow whose calls fan out costs about rounds × latency, not calls × latency.
    """
    from model_chorus.providers.resolver import ProviderResolver
    from model_chorus.workflows.base import WorkflowEnv, WorkflowRequest
    from model_chorus.workflows.registry import get_workflow

    settings = Settings()
    for tool in BUILTIN_PROVIDERS:
        os.environ[f"FAKE_{tool.upper().replace('-', '_')}_REPLY"] = IDEAS_REPLY
    results = []
    # consensus (all_responses): one parallel round. ideate: a parallel brainstorm,
    # then one clustering call and one scoring call.
    for name, options, rounds in (
        ("consensus", {}, 1),
        ("ideate", {"num_ideas": 3}, 3),
    ):
        walls: list[float] = []
        calls = 0
        with ConversationDatabase(workdir / f"{name}.db") as db:
            for index in range(runs + 1):  # the first run warms up
                log = AttemptLog()
                resolver = ProviderResolver(
                    settings, store=db, attempts=log, correlation_id=new_id(), workflow=name
                )
                resolved = resolver.resolve(list(BUILTIN_PROVIDERS), multi=True)
                env = WorkflowEnv(
                    store=db,
                    providers=resolved.providers,
                    settings=settings,
                    context_window=resolved.context_window,
                )
                request = WorkflowRequest(prompt="Ways to cut CI time", options=options)
                started = time.perf_counter()
                await get_workflow(name)(env).run(request)
                if index:
                    walls.append(time.perf_counter() - started)
                calls = len(log)
        results.append((name, walls, calls, rounds))
    return results


def report_workflows(results: list[tuple[str, list[float], int, int]], latency: float) -> None:
    print()
    print(f"Workflows over the four fake tools, each call {latency:g} s:")
    header = f"{'workflow':<12}{'calls':>6}{'wall p50':>10}"
    print(header + f"{'rounds × latency':>18}{'calls × latency':>17}")
    for name, walls, calls, rounds in results:
        print(
            f"{name:<12}{calls:>6}{statistics.median(walls):>9.3f}s"
            f"{rounds * latency:>17.1f}s{calls * latency:>16.1f}s"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--latency", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp:
        workdir = Path(tmp)
        prepare_environment(workdir, args.latency)
        results = asyncio.run(bench(args.runs, args.latency, workdir))
        workflows = asyncio.run(bench_workflows(args.runs, args.latency, workdir))
    passed = report(results, args.runs, args.latency)
    report_workflows(workflows, args.latency)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
