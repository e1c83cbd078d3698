"""Context ingestion, reading side: decoding, limits and the budget rule, chunking, streaming."""

from __future__ import annotations

import builtins
import codecs
import json
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from model_chorus.config import ContextSettings
from model_chorus.context import expand, ingest
from model_chorus.context.ingest import (
    MIN_PARTIAL_TOKENS,
    ContextIngestionService,
    IngestedContext,
)
from model_chorus.context.tokens import count_tokens
from model_chorus.errors import InputError
from model_chorus.workflows.prompting import render_attachments

MiB = 1024 * 1024


def service(**limits: int) -> ContextIngestionService:
    return ContextIngestionService(ContextSettings(**limits))


def numbered(lines: int, start: int = 0) -> str:
    return "".join(f"line {n:06d}: the quick brown fox jumps\n" for n in range(start, lines))


def fates(context: IngestedContext) -> list[tuple[str, str, str | None]]:
    return [(f.path, f.status, f.reason) for f in context.files]


# -- decoding ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "text", "encoding"),
    [
        ("héllo wörld\n".encode(), "héllo wörld\n", "utf-8"),
        (codecs.BOM_UTF8 + "bom ☃\n".encode(), "bom ☃\n", "utf-8"),
        (codecs.BOM_UTF16_LE + "wide ☃\n".encode("utf-16-le"), "wide ☃\n", "utf-16-le"),
        (codecs.BOM_UTF16_BE + "wide ☃\n".encode("utf-16-be"), "wide ☃\n", "utf-16-be"),
        (codecs.BOM_UTF32_LE + "wider\n".encode("utf-32-le"), "wider\n", "utf-32-le"),
        (b"caf\xe9 costs 5\x80\n", "café costs 5€\n", "cp1252"),
        (b"byte \x81 undefined in cp1252 \xe9\n", "byte \x81 undefined in cp1252 é\n", "latin-1"),
    ],
)
def test_text_is_decoded_by_bom_then_utf8_then_legacy_code_pages(
    raw: bytes, text: str, encoding: str
) -> None:
    Path("f.txt").write_bytes(raw)

    context = service().ingest(["f.txt"], token_budget=1_000)

    assert context.attachments[0].content == text
    assert context.files[0].encoding == encoding
    assert context.files[0].status == "included"


@pytest.mark.parametrize(
    "raw",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
        b"text at first, then a NUL\x00 byte",
        bytes([1, 2, 3, 4, 5, 6, 7, 14, 15, 16]) * 100 + b"no NUL but mostly control bytes",
        b"abcd\x01" * 400,  # one control byte in five
    ],
)
def test_binary_files_are_skipped_with_a_note(raw: bytes) -> None:
    Path("blob.bin").write_bytes(raw)
    Path("code.py").write_text("print('hi')\n")

    context = service().ingest(["blob.bin", "code.py"], token_budget=1_000)

    assert fates(context) == [
        ("blob.bin", "skipped", "binary"),
        ("code.py", "included", None),
    ]
    assert [a.path for a in context.attachments] == ["code.py"]
    assert context.warnings == ["blob.bin: left out (binary)"]


def test_text_with_tabs_escapes_and_form_feeds_is_not_binary() -> None:
    text = "\x1b[1mbold\x1b[0m\tcol\r\n\x0cnext page\n" * 50
    Path("colored.log").write_bytes(text.encode())

    context = service().ingest(["colored.log"], token_budget=5_000)

    assert fates(context) == [("colored.log", "included", None)]
    assert context.attachments[0].content == text


def test_empty_file_is_included_with_zero_tokens() -> None:
    Path("empty.txt").write_bytes(b"")

    context = service().ingest(["empty.txt"], token_budget=1_000)

    assert fates(context) == [("empty.txt", "included", None)]
    assert context.attachments[0].content == ""
    assert context.files[0].tokens == 0
    assert context.warnings == []


# -- limits and the budget rule --------------------------------------------------------


def test_file_over_the_per_file_limit_is_cut_to_it() -> None:
    text = numbered(200)
    Path("big.log").write_text(text)

    context = service(max_file_bytes=1_000).ingest(["big.log"], token_budget=100_000)

    (report,) = context.files
    assert (report.status, report.reason, report.size) == (
        "truncated",
        "over per-file limit",
        len(text),
    )
    kept = context.attachments[0].content
    assert text.startswith(kept) and 900 < len(kept.encode()) <= 1_000
    assert context.attachments[0].note is not None
    assert context.attachments[0].note.startswith("truncated: first")


def test_file_that_does_not_fit_is_cut_to_what_remains_and_later_files_are_left_out() -> None:
    Path("a.txt").write_text(numbered(10))
    Path("b.txt").write_text(numbered(2_000))
    Path("c.txt").write_text(numbered(5))

    context = service().ingest(["a.txt", "b.txt", "c.txt"], token_budget=3_000)

    assert fates(context) == [
        ("a.txt", "included", None),
        ("b.txt", "truncated", "over total budget"),
        ("c.txt", "skipped", "over total budget"),
    ]
    assert numbered(2_000).startswith(context.attachments[1].content)
    assert context.attachments[1].tokens >= MIN_PARTIAL_TOKENS
    assert 2_800 < context.total_tokens <= 3_000
    assert context.warnings == [
        f"b.txt: truncated to {context.files[1].tokens:,} tokens of 78.0 KB (over total budget)",
        "c.txt: left out (over total budget)",
    ]


def test_too_little_room_left_skips_a_big_file_but_later_small_files_still_fit() -> None:
    first = numbered(60)
    Path("a.txt").write_text(first)
    Path("b.txt").write_text(numbered(2_000))
    Path("c.txt").write_text("tiny\n")
    budget = count_tokens(first) + 40 + MIN_PARTIAL_TOKENS // 2

    context = service().ingest(["a.txt", "b.txt", "c.txt"], token_budget=budget)

    assert fates(context) == [
        ("a.txt", "included", None),
        ("b.txt", "skipped", "over total budget"),
        ("c.txt", "included", None),
    ]
    assert context.total_tokens <= budget


def test_total_size_limit_cuts_the_file_that_crosses_it() -> None:
    Path("a.txt").write_text(numbered(70))  # 2,730 bytes
    Path("b.txt").write_text(numbered(70))
    Path("c.txt").write_text(numbered(70))

    context = service(max_total_bytes=5_000).ingest(
        ["a.txt", "b.txt", "c.txt"], token_budget=100_000
    )

    assert fates(context) == [
        ("a.txt", "included", None),
        ("b.txt", "truncated", "over total size limit"),
        ("c.txt", "skipped", "over total size limit"),
    ]
    included = sum(len(a.content.encode()) for a in context.attachments)
    assert 4_500 < included <= 5_000


def record_opens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    opened: list[str] = []
    real_open = ingest.open_file

    def recording(path: str):
        opened.append(Path(path).name)
        return real_open(path)

    monkeypatch.setattr(ingest, "open_file", recording)
    return opened


def test_once_the_budget_is_used_up_later_files_are_left_out_unread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    Path("src").mkdir()
    Path("src/a.txt").write_text(numbered(2_000))
    for n in range(50):
        Path(f"src/b{n:02d}.txt").write_text(numbered(20))
    opened = record_opens(monkeypatch)

    context = service().ingest(["src"], token_budget=3_000)

    assert opened == ["a.txt"]
    assert context.files[0].status == "truncated"
    assert {(f.status, f.reason) for f in context.files[1:]} == {("skipped", "over total budget")}
    assert {f.size for f in context.files[1:]} == {len(numbered(20))}  # from the listing
    assert len(context.warnings) == ingest.MAX_WARNING_LINES


def test_once_the_total_size_is_used_up_later_files_are_left_out_unread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    Path("src").mkdir()
    for n in range(20):
        Path(f"src/f{n:02d}.txt").write_text(numbered(70))  # 2,730 bytes each
    opened = record_opens(monkeypatch)

    # 70 bytes left after the first file: too few for a cut, too few for any other file.
    context = service(max_total_bytes=2_800).ingest(["src"], token_budget=100_000)

    assert opened == ["f00.txt"]
    assert context.files[0].status == "included"
    assert {(f.status, f.reason) for f in context.files[1:]} == {
        ("skipped", "over total size limit")
    }


def test_a_full_budget_opens_only_a_bounded_number_of_small_files(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    Path("src").mkdir()
    Path("src/a.txt").write_text(numbered(2_000))
    for n in range(30):
        Path(f"src/z{n:02d}.bin").write_bytes(b"\x00")  # small enough to try, never fits
    monkeypatch.setattr(ingest, "MAX_OPENS_WHEN_FULL", 5)
    opened = record_opens(monkeypatch)

    context = service().ingest(["src"], token_budget=3_000)

    assert len(opened) == 1 + 5
    assert [f.reason for f in context.files[1:7]] == ["binary"] * 5 + ["over total budget"]
    assert len(context.files) == 31


def test_json_lists_the_first_files_and_counts_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    Path("src").mkdir()
    for n in range(12):
        Path(f"src/f{n:02d}.txt").write_text(f"{n}\n")
    Path("src/z.bin").write_bytes(b"\x00")
    monkeypatch.setattr(ingest, "MAX_FILE_ENTRIES", 10)

    context = service().ingest(["src"], token_budget=10_000)
    data = json.loads(json.dumps(context.to_dict()))

    assert len(context.files) == 13  # the library keeps every fate
    assert [f["path"] for f in data["files"]] == [f"src/f{n:02d}.txt" for n in range(10)]
    assert data["files_omitted"] == 3
    assert data["file_counts"] == {"included": 12, "truncated": 0, "skipped": 1}


@pytest.mark.parametrize("budget", [0, 1, 50, 300, 1_000, 4_321, 20_000])
@pytest.mark.parametrize("chunking", ["head", "head+tail"])
def test_attachments_never_cost_more_than_the_budget(budget: int, chunking: str) -> None:
    for n in range(6):
        Path(f"f{n}.txt").write_text(numbered(40 * (n + 1) ** 2))

    context = service().ingest(["."], token_budget=budget, chunking=chunking)  # type: ignore[arg-type]

    assert context.total_tokens <= budget
    assert len(context.files) == 6
    # The accounting is that of the prompt the workflows render (joins may merge a token).
    rendered = count_tokens(render_attachments(context.attachments))
    assert abs(rendered - context.total_tokens) <= 2


def test_token_sparse_text_reads_on_until_the_budget_is_used() -> None:
    # Long runs of spaces take ~100 bytes per token, far past the 8-byte estimate.
    Path("sparse.txt").write_text(("x" + " " * 5_000 + "\n") * 60)

    context = service().ingest(["sparse.txt"], token_budget=2_000)

    assert fates(context) == [("sparse.txt", "truncated", "over total budget")]
    assert context.files[0].tokens > 1_500


def test_warnings_are_summed_up_after_a_screenful() -> None:
    for n in range(30):
        Path(f"f{n:02d}.bin").write_bytes(b"\x00")

    warnings = service().ingest(["."], token_budget=1_000).warnings

    assert len(warnings) == ingest.MAX_WARNING_LINES
    assert warnings[0] == "f00.bin: left out (binary)"
    assert warnings[-1].startswith("… and 11 more files")


def test_context_to_dict_is_the_json_shape_the_cli_prints() -> None:
    Path("a.py").write_text("x = 1\n")

    data = json.loads(json.dumps(service().ingest(["a.py"], token_budget=500).to_dict()))

    assert data["budget"] == 500
    assert data["total_tokens"] > data["files"][0]["tokens"] > 0
    assert data["files"] == [
        {
            "path": "a.py",
            "size": 6,
            "tokens": data["files"][0]["tokens"],
            "status": "included",
            "reason": None,
            "encoding": "utf-8",
        }
    ]
    assert data["tokenizer"] and data["warnings"] == []
    assert data["files_omitted"] == 0


def test_unknown_chunking_is_an_input_error() -> None:
    Path("a.py").write_text("x = 1\n")
    with pytest.raises(InputError):
        service().ingest(["a.py"], token_budget=500, chunking="middle")  # type: ignore[arg-type]


# -- head+tail and chunks ----------------------------------------------------------------


def test_head_and_tail_keep_both_ends_with_a_marker_between() -> None:
    text = numbered(5_000)
    Path("server.log").write_text(text)

    context = service().ingest(["server.log"], token_budget=2_000, chunking="head+tail")

    content = context.attachments[0].content
    head, marker, tail = content.partition("\n\n[… ")
    assert marker, "no marker between head and tail"
    omitted = int(tail.split(" bytes omitted …]\n\n", 1)[0].replace(",", ""))
    tail = tail.split(" bytes omitted …]\n\n", 1)[1]
    assert text.startswith(head) and head.startswith("line 000000")
    assert text.endswith(tail) and tail.endswith("line 004999: the quick brown fox jumps\n")
    assert len(head.encode()) + omitted + len(tail.encode()) == len(text.encode())
    assert context.files[0].status == "truncated"
    assert context.total_tokens <= 2_000
    assert "first" in (context.attachments[0].note or "") and "last" in (
        context.attachments[0].note or ""
    )


def test_head_and_tail_of_a_file_that_fits_is_the_whole_file() -> None:
    Path("small.txt").write_text(numbered(20))

    context = service().ingest(["small.txt"], token_budget=2_000, chunking="head+tail")

    assert context.attachments[0].content == numbered(20)
    assert context.files[0].status == "included"


def test_head_and_tail_of_a_multibyte_file_stays_valid_text() -> None:
    text = "".join(f"{n}: 日本語のテキストと絵文字 🎉\n" for n in range(3_000))
    Path("jp.txt").write_text(text)

    content = service().ingest(["jp.txt"], token_budget=1_000, chunking="head+tail")
    body = content.attachments[0].content

    assert "\ufffd" not in body
    assert text.endswith(body.rsplit(" bytes omitted …]\n\n", 1)[1])


def test_head_and_tail_under_a_byte_limit_start_the_tail_on_a_whole_character() -> None:
    text = "".join(f"{n}: ünïcödé ✓ 日本\n" for n in range(2_000))
    Path("mb.txt").write_text(text)

    for limit in range(1_000, 1_008):  # every alignment of the tail's first byte
        context = service(max_file_bytes=limit).ingest(
            ["mb.txt"], token_budget=100_000, chunking="head+tail"
        )
        body = context.attachments[0].content
        tail = body.rsplit(" bytes omitted …]\n\n", 1)[1]
        assert context.files[0].reason == "over per-file limit"
        assert "\ufffd" not in body
        assert text.endswith(tail) and len(tail.encode()) > limit // 2 - 4


def test_chunks_cover_the_whole_file_in_order_within_the_chunk_size() -> None:
    text = numbered(3_000)
    Path("big.txt").write_text(text)

    parts = list(service().chunks("big.txt", chunk_tokens=500))

    assert "".join(p.content for p in parts) == text
    assert len(parts) > 10
    assert all(0 < p.tokens <= 500 for p in parts)
    assert all(p.content.endswith("\n") for p in parts)  # cut at line ends when close
    assert parts[0].note == f"part 1: bytes 0–{len(parts[0].content):,} of {len(text):,}"
    assert parts[-1].note is not None and parts[-1].note.endswith(f"{len(text):,} of {len(text):,}")


def test_chunks_of_text_without_newlines_still_cover_it() -> None:
    text = "word " * 5_000
    Path("one-line.txt").write_text(text)

    parts = list(service().chunks("one-line.txt", chunk_tokens=300))

    assert "".join(p.content for p in parts) == text
    assert all(p.tokens <= 300 for p in parts)


def test_chunks_check_the_spec_before_iteration_starts() -> None:
    Path("blob.bin").write_bytes(b"\x00\x01")
    with pytest.raises(InputError, match="missing"):
        service().chunks("missing.txt", chunk_tokens=100)
    with pytest.raises(InputError, match="binary"):
        service().chunks("blob.bin", chunk_tokens=100)


def test_chunks_of_a_folder_go_file_by_file() -> None:
    Path("docs").mkdir()
    Path("docs/a.md").write_text(numbered(5))
    Path("docs/b.md").write_text(numbered(10, start=5))

    parts = list(service().chunks("docs", chunk_tokens=1_000))

    assert [(p.path, p.content) for p in parts] == [
        ("docs/a.md", numbered(5)),
        ("docs/b.md", numbered(10, start=5)),
    ]


# -- streaming ------------------------------------------------------------------------


@pytest.fixture
def sparse_2gb() -> Iterator[Path]:
    """A 2 GiB file with text at both ends and a hole between (few real disk blocks)."""
    count_tokens("load the tokenizer before memory is traced")
    path = Path("huge.log")
    text = numbered(20_000).encode()
    with open(path, "wb") as handle:
        handle.write(text)
        handle.truncate(2 * 1024 * MiB)
        handle.seek(2 * 1024 * MiB - len(text))
        handle.write(text)
    yield path
    path.unlink()


@pytest.mark.parametrize("chunking", ["head", "head+tail"])
def test_memory_is_bounded_by_the_budget_not_the_file(sparse_2gb: Path, chunking: str) -> None:
    unlimited = service(max_file_bytes=10**12, max_total_bytes=10**12)
    tracemalloc.start()
    try:
        context = unlimited.ingest(["huge.log"], token_budget=20_000, chunking=chunking)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert context.files[0].status == "truncated"
    assert context.files[0].size == 2 * 1024 * MiB
    assert 19_000 < context.total_tokens <= 20_000
    assert context.attachments[0].content.startswith("line 000000")
    if chunking == "head+tail":
        assert context.attachments[0].content.endswith("line 019999: the quick brown fox jumps\n")
    assert peak < 8 * MiB


def test_chunks_stream_a_huge_file(sparse_2gb: Path) -> None:
    tracemalloc.start()
    try:
        parts = service().chunks("huge.log", chunk_tokens=2_000)
        first = [next(parts) for _ in range(5)]
        parts.close()  # type: ignore[attr-defined]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert first[0].content.startswith("line 000000")
    assert "of 2,147,483,648" in (first[4].note or "")
    assert peak < 4 * MiB


# -- files that change or cannot be read ----------------------------------------------


def test_file_vanishing_between_listing_and_reading_is_skipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("a.txt", "b.txt", "c.txt"):
        Path("src").mkdir(exist_ok=True)
        Path("src", name).write_text(f"{name}\n")
    real_expand = expand.expand_specs

    def listing_then_delete(*args, **kwargs):
        found = real_expand(*args, **kwargs)
        Path("src/b.txt").unlink()
        return found

    monkeypatch.setattr(expand, "expand_specs", listing_then_delete)
    context = service().ingest(["src"], token_budget=1_000)

    assert fates(context) == [
        ("src/a.txt", "included", None),
        ("src/b.txt", "skipped", "vanished"),
        ("src/c.txt", "included", None),
    ]
    assert context.warnings == ["src/b.txt: left out (vanished)"]


def test_permission_denied_inside_a_folder_is_skipped_as_unreadable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    Path("src").mkdir()
    Path("src/a.txt").write_text("a\n")
    Path("src/locked.txt").write_text("secret\n")
    real_open = builtins.open

    def guarded(file, *args, **kwargs):
        if str(file).endswith("locked.txt"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded)
    context = service().ingest(["src"], token_budget=1_000)

    assert fates(context) == [
        ("src/a.txt", "included", None),
        ("src/locked.txt", "skipped", "unreadable"),
    ]


# -- progress -------------------------------------------------------------------------


def test_progress_reports_listing_and_reading_when_it_runs_long(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    Path("many").mkdir()
    for n in range(300):
        Path(f"many/{n:03d}.txt").write_text(f"{n}\n")
    monkeypatch.setattr(ingest, "PROGRESS_INTERVAL_S", 0.0)  # "long" from the first file on
    messages: list[str] = []

    ContextIngestionService(ContextSettings(), on_progress=messages.append).ingest(
        ["many"], token_budget=100_000
    )

    assert "Listing files: 256 found" in messages
    assert messages[-1].startswith("Reading files: 300 of 300")


def test_progress_is_silent_for_quick_work(monkeypatch: pytest.MonkeyPatch) -> None:
    Path("a.txt").write_text("a\n")
    monkeypatch.setattr(ingest, "PROGRESS_INTERVAL_S", 3_600.0)
    messages: list[str] = []

    ContextIngestionService(ContextSettings(), on_progress=messages.append).ingest(
        ["a.txt"], token_budget=100
    )

    assert messages == []
