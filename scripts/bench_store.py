"""How the conversation store holds up at scale: 100,000 threads, 1,000,000 messages.

Builds that database in a temporary directory (bulk insert through the real
schema, FTS index included), then times the operations a user waits for,
in-process, and prints the median and 95th percentile of each:

* ``threads list``: ``list_threads(limit=20)``            target < 5 ms
* continuing a thread: ``get_thread`` + ``build_conversation_history``
  + ``add_messages`` (a user turn and an answer)          target < 5 ms
* ``threads search``: ``search(...)`` over FTS5           target < 100 ms

Run: ``.venv/bin/python scripts/bench_store.py [--threads 100000]
[--messages-per-thread 10] [--keep PATH]``. Building takes a few minutes on the
2-core reference machine; ``--keep`` leaves the database for a second look
(and reuses it when it already exists).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from model_chorus.context.history import build_conversation_history
from model_chorus.context.tokens import count_tokens
from model_chorus.models import Message, Role
from model_chorus.store.database import ConversationDatabase

WORKFLOWS = ("chat", "consensus", "argument", "ideate", "thinkdeep")
VOCABULARY = 20_000
SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"]
#: Words that appear in roughly 1 in 50,000 messages, for a "rare word" search.
NEEDLE = "zyxwvut"


def words(rng: random.Random) -> list[str]:
    out: set[str] = set()
    while len(out) < VOCABULARY:
        out.add("".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))))
    return sorted(out)


def build(path: Path, n_threads: int, per_thread: int, seed: int) -> dict[str, str]:
    """Fill ``path`` quickly: one connection, big transactions, FTS kept by the real triggers."""
    rng = random.Random(seed)
    vocab = words(rng)
    # Zipf-like weights: a few very common words, a long tail of rare ones.
    cum = []
    acc = 0.0
    for rank in range(1, len(vocab) + 1):
        acc += 1.0 / rank
        cum.append(acc)
    ConversationDatabase(path).close()  # creates the schema
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -262144")  # 256 MiB while building
    start = datetime.now(UTC) - timedelta(days=365)
    message_id = 0
    built = time.perf_counter()
    batch_threads = 5_000
    for first in range(0, n_threads, batch_threads):
        threads = []
        messages = []
        for t in range(first, min(first + batch_threads, n_threads)):
            thread_id = f"{rng.getrandbits(128):032x}"
            created = start + timedelta(seconds=rng.uniform(0, 365 * 86400))
            texts = [
                " ".join(rng.choices(vocab, cum_weights=cum, k=rng.randint(10, 60)))
                for _ in range(per_thread)
            ]
            if rng.random() < 0.0002 * per_thread:
                texts[-1] += f" {NEEDLE}"
            stamp = created
            for seq, text in enumerate(texts, start=1):
                message_id += 1
                stamp += timedelta(seconds=rng.uniform(5, 300))
                role = "user" if seq % 2 else "assistant"
                provider = None if role == "user" else rng.choice(["claude", "gemini", "codex"])
                messages.append(
                    (
                        message_id,
                        thread_id,
                        seq,
                        role,
                        text,
                        provider,
                        None,
                        "[]",
                        None,
                        None,
                        stamp.isoformat(timespec="microseconds"),
                        "{}",
                    )
                )
            threads.append(
                (
                    thread_id,
                    WORKFLOWS[t % len(WORKFLOWS)],
                    texts[0][:60],
                    "active",
                    None,
                    created.isoformat(timespec="microseconds"),
                    stamp.isoformat(timespec="microseconds"),
                    "{}",
                )
            )
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO threads VALUES (?, ?, ?, ?, ?, ?, ?, ?)", threads)
        conn.executemany(
            "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", messages
        )
        conn.execute("COMMIT")
        done = min(first + batch_threads, n_threads)
        rate = done * per_thread / (time.perf_counter() - built)
        print(f"\r  built {done:,}/{n_threads:,} threads ({rate:,.0f} messages/s)", end="")
    print()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("ANALYZE")
    conn.close()
    return {"common": vocab[0], "mid": vocab[200], "rare": vocab[-1]}


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    fn()  # warm caches (and tiktoken) once, like a CLI's second command
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=100_000)
    parser.add_argument("--messages-per-thread", type=int, default=10)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="Build (or reuse) the database at PATH.")
    args = parser.parse_args()

    tmp: Path | None = None
    if args.keep:
        path: Path = args.keep
    else:
        tmp = Path(tempfile.mkdtemp(prefix="bench-store-"))
        path = tmp / "chorus.db"
    try:
        if path.exists():
            print(f"Reusing {path}")
            conn = sqlite3.connect(path)
            vocab_words = [
                row[0]
                for row in conn.execute(
                    "SELECT content FROM messages WHERE id IN (1, 2, 3)"
                ).fetchall()
            ]
            conn.close()
            first = vocab_words[0].split()
            terms = {"common": first[0], "mid": first[1], "rare": first[-1]}
        else:
            print(
                f"Building {args.threads:,} threads x {args.messages_per_thread} messages in {path}"
            )
            started = time.perf_counter()
            terms = build(path, args.threads, args.messages_per_thread, args.seed)
            print(f"  done in {time.perf_counter() - started:.0f} s")
        size_mib = path.stat().st_size / 2**20
        count_tokens("warm up the tokenizer")

        db = ConversationDatabase(path)
        stats = db.stats()
        print(
            f"Database: {stats['threads']:,} threads, {stats['messages']:,} messages, "
            f"{size_mib:,.0f} MiB, FTS5 {'on' if stats['fts'] else 'OFF'}"
        )
        rng = random.Random(args.seed + 1)
        # Threads from anywhere in the file, not just the recent (cached) end.
        with sqlite3.connect(path) as conn:
            ids = [
                r[0] for r in conn.execute("SELECT id FROM threads ORDER BY random() LIMIT 2000")
            ]

        def continue_thread() -> None:
            thread = db.get_thread(rng.choice(ids))
            history = build_conversation_history(db, thread.id, 100_000, "smart")
            assert history.messages
            db.add_messages(
                thread.id,
                [
                    Message(Role.USER, "and what about the retry budget?"),
                    Message(Role.ASSISTANT, "Keep it under the timeout.", provider="claude"),
                ],
            )

        def search(text: str, workflow: str | None = None) -> Callable[[], object]:
            return lambda: db.search(text, limit=20, workflow=workflow)

        operations: list[tuple[str, Callable[[], object], float | None, int]] = [
            ("open database", lambda: ConversationDatabase(path).close(), None, args.runs),
            ("list_threads(limit=20)", lambda: db.list_threads(limit=20), 5.0, args.runs),
            (
                "list_threads(workflow, 20)",
                lambda: db.list_threads(workflow="thinkdeep", limit=20),
                5.0,
                args.runs,
            ),
            ("resolve id prefix", lambda: db.resolve_thread_id(rng.choice(ids)[:8]), None, 200),
            ("continue a thread", continue_thread, 5.0, args.runs),
            (f"search common {terms['common']!r}", search(terms["common"]), 100.0, 50),
            (f"search mid {terms['mid']!r}", search(terms["mid"]), 100.0, 50),
            (f"search rare {NEEDLE!r}", search(NEEDLE), 100.0, 50),
            (
                f"search 2 words {terms['common']} {terms['mid']}",
                search(f"{terms['common']} {terms['mid']}"),
                100.0,
                50,
            ),
            (f"search prefix {terms['mid'][:4]!r}*", search(terms["mid"][:4] + "*"), 100.0, 50),
            # Opt-in prefix search on a very common prefix: shown, not targeted.
            (
                f"search prefix {terms['common'][:2]!r}*",
                search(terms["common"][:2] + "*"),
                None,
                10,
            ),
            (
                f"search {terms['mid']!r} in ideate",
                search(terms["mid"], "ideate"),
                100.0,
                50,
            ),
            ("search no match", search("qqqqqqqq"), 100.0, 50),
            ("stats (threads stats)", db.stats, None, 5),
        ]
        print(f"\n{'operation':<44} {'median ms':>10} {'p95 ms':>8} {'target':>8}  ok")
        failed = False
        for name, fn, target, runs in operations:
            samples = sorted(timed(fn, runs))
            median = statistics.median(samples)
            p95 = samples[int(len(samples) * 0.95) - 1]
            ok = "" if target is None else ("yes" if median < target else "NO")
            failed |= ok == "NO"
            shown = "" if target is None else f"< {target:g}"
            print(f"{name:<44} {median:>10.2f} {p95:>8.2f} {shown:>8}  {ok}")
        db.close()
        return 1 if failed else 0
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
