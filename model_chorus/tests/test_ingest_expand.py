"""Context ingestion, listing side: which files a spec names, in what order, and errors."""

from __future__ import annotations

import builtins
import json
import os
from pathlib import Path

import pytest

from model_chorus.config import ContextSettings
from model_chorus.context import expand, ingest
from model_chorus.context.ingest import ContextIngestionService
from model_chorus.errors import InputError


def write(path: str | Path, text: str = "x = 1\n") -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def paths(specs: list[str], *, cwd: Path | None = None) -> list[str]:
    service = ContextIngestionService(ContextSettings(), cwd=cwd)
    return [f.path for f in service.ingest(specs, token_budget=100_000).files]


def test_folder_walk_skips_vcs_environments_caches_and_build_output() -> None:
    write("src/app.py")
    write("src/.github/ci.yml", "on: push\n")
    for skipped in (
        ".git/config",
        ".hg/store",
        "node_modules/left/index.js",
        "src/__pycache__/app.cpython-311.pyc",
        ".venv/lib/site.py",
        "venv/lib/site.py",
        "myenv/lib/site.py",  # a virtualenv by its marker file, whatever its name
        "condaenv/lib/site.py",
        ".mypy_cache/3.11/x.json",
        ".pytest_cache/v/cache",
        "build/lib/app.py",
        "dist/app.tar.gz",
        "target/debug/app",
        "app.egg-info/PKG-INFO",
    ):
        write(skipped)
    write("myenv/pyvenv.cfg", "home = /usr/bin\n")
    Path("condaenv/conda-meta").mkdir()

    assert paths(["."]) == ["src/.github/ci.yml", "src/app.py"]


def test_folder_named_explicitly_is_walked_even_if_its_name_is_skipped() -> None:
    write("build/gen.py")
    write("build/node_modules/dep.js")

    assert paths(["build"]) == ["build/gen.py"]


def test_gitignore_at_root_and_nested_with_negation() -> None:
    write(".gitignore", "*.log\nsecret/\n/only-root.txt\n")
    write("sub/.gitignore", "!keep.log\n*.tmp\n")
    write("app.log")
    write("secret/key.txt")
    write("only-root.txt")
    write("sub/only-root.txt")
    write("sub/drop.log")
    write("sub/keep.log")
    write("sub/scratch.tmp")
    write("other.tmp")  # the nested *.tmp rule applies below sub/ only
    write("main.py")

    assert paths(["."]) == [
        ".gitignore",
        "main.py",
        "other.tmp",
        "sub/.gitignore",
        "sub/keep.log",
        "sub/only-root.txt",
    ]


def test_gitignore_of_the_enclosing_repository_applies_to_a_subfolder() -> None:
    Path(".git").mkdir()
    write(".gitignore", "*.log\n")
    write("pkg/.gitignore", "generated/\n")
    write("pkg/mod/code.py")
    write("pkg/mod/debug.log")
    write("pkg/mod/generated/out.py")

    assert paths(["pkg/mod"]) == ["pkg/mod/code.py"]


def test_a_file_named_explicitly_is_read_even_if_gitignored() -> None:
    write(".gitignore", "*.log\n")
    write("app.log", "started\n")

    assert paths(["app.log"]) == ["app.log"]


def test_globs_with_double_star_and_hidden_names() -> None:
    write("src/a.py")
    write("src/a.txt")
    write("src/pkg/deep/b.py")
    write("src/.hidden/c.py")
    write("src/.dotfile.py")
    write("src/node_modules/d.py")
    write("top.py")

    assert paths(["src/**/*.py"]) == ["src/a.py", "src/pkg/deep/b.py"]
    assert paths(["**/*.py"]) == ["src/a.py", "src/pkg/deep/b.py", "top.py"]
    assert paths(["src/*.py"]) == ["src/a.py"]
    assert paths(["src/.hidden/*.py"]) == ["src/.hidden/c.py"]
    assert paths(["src/.*.py"]) == ["src/.dotfile.py"]
    assert paths(["src/[ab].txt"]) == ["src/a.txt"]
    assert paths(["src/?.py"]) == ["src/a.py"]


def test_glob_that_matches_a_folder_takes_the_files_below_it() -> None:
    write("src/pkg/one.py")
    write("src/pkg/sub/two.py")
    write("src/readme.md")

    assert paths(["src/p*"]) == ["src/pkg/one.py", "src/pkg/sub/two.py"]


def test_order_follows_the_specs_then_sorted_paths_and_each_file_once() -> None:
    write("b.txt")
    write("a.txt")
    write("src/z.py")
    write("src/a/inner.py")
    write("src/b.py")

    assert paths(["b.txt", "src", "src/b.py", "*.txt"]) == [
        "b.txt",
        "src/a/inner.py",
        "src/b.py",
        "src/z.py",
        "a.txt",
    ]


def test_symlink_loop_ends_and_linked_files_are_read_once() -> None:
    write("src/a.py")
    write("src/sub/b.py")
    Path("src/sub/loop").symlink_to(Path("src").resolve(), target_is_directory=True)
    Path("src/sub/self").symlink_to(".", target_is_directory=True)
    Path("src/z_link.py").symlink_to("a.py")

    assert paths(["src"]) == ["src/a.py", "src/sub/b.py"]


def test_symlinked_folder_outside_the_tree_is_followed() -> None:
    outside = Path("../shared").resolve()
    write(outside / "lib.py")
    Path("proj").mkdir()
    Path("proj/shared").symlink_to(outside, target_is_directory=True)

    assert paths(["proj"]) == ["proj/shared/lib.py"]


def test_non_utf8_file_names_are_listed_with_a_replacement_character() -> None:
    Path("docs").mkdir()
    raw = os.path.join(b"docs", b"caf\xe9.txt")
    with open(raw, "wb") as handle:
        handle.write(b"menu\n")

    context = ContextIngestionService(ContextSettings()).ingest(["docs"], token_budget=1_000)

    assert [f.path for f in context.files] == ["docs/caf\ufffd.txt"]
    assert context.attachments[0].content == "menu\n"
    json.dumps(context.to_dict(), ensure_ascii=False)  # no lone surrogates left


def test_paths_resolve_from_the_service_working_directory_only(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write(project / "notes.md")
    write(tmp_path / "elsewhere.md")

    assert paths(["notes.md"], cwd=project) == ["notes.md"]
    with pytest.raises(InputError):
        paths(["notes.md"])  # the process cwd (tmp/work) does not have it
    assert paths([str(tmp_path / "elsewhere.md")], cwd=project) == [str(tmp_path / "elsewhere.md")]


def test_missing_path_is_an_input_error_naming_it() -> None:
    with pytest.raises(InputError, match=r"src/nope\.py") as info:
        paths(["src/nope.py"])
    assert info.value.exit_code == 2


def test_glob_matching_nothing_is_an_input_error() -> None:
    write("src/a.txt")
    with pytest.raises(InputError, match=r"src/\*\*/\*\.py"):
        paths(["src/**/*.py"])
    with pytest.raises(InputError, match="nowhere"):
        paths(["nowhere/*.py"])


def test_glob_matching_nothing_fails_even_beside_a_symlink_loop() -> None:
    write("src/a.txt")
    Path("src/loop").symlink_to("loop")  # following it fails with ELOOP

    with pytest.raises(InputError, match=r"No files match 'src/\*\.py'"):
        paths(["src/*.py"])


def test_a_symlink_loop_inside_a_folder_is_skipped_as_a_broken_symlink() -> None:
    write("src/a.py")
    Path("src/loop").symlink_to("loop")

    context = ContextIngestionService(ContextSettings()).ingest(["src"], token_budget=1_000)

    assert [(f.path, f.status, f.reason) for f in context.files] == [
        ("src/a.py", "included", None),
        ("src/loop", "skipped", "broken symlink"),
    ]


def test_folder_with_nothing_to_read_is_an_input_error() -> None:
    write("empty/node_modules/x.js")
    with pytest.raises(InputError, match="empty"):
        paths(["empty"])


def test_errors_come_before_any_file_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    write("a.py")

    def no_reading(path: str):
        raise AssertionError(f"read {path} before checking every spec")

    monkeypatch.setattr(ingest, "open_file", no_reading)
    with pytest.raises(InputError, match=r"missing\.py"):
        paths(["a.py", "missing.py"])


def deny(monkeypatch: pytest.MonkeyPatch, denied: Path) -> None:
    """EACCES for one file, whoever opens it (tests run as root, so chmod alone is no test)."""
    real_open = builtins.open

    def guarded(file, *args, **kwargs):
        if isinstance(file, str | Path) and Path(file).resolve() == denied.resolve():
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded)


def test_unreadable_file_named_explicitly_is_an_input_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = write("secret.txt")
    deny(monkeypatch, secret)

    with pytest.raises(InputError, match=r"secret\.txt.*Permission denied"):
        paths(["secret.txt"])


def test_unreadable_folder_named_explicitly_is_an_input_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write("locked/a.py")
    real_list = expand._list_dir

    def list_dir(path: str):
        if os.path.basename(path) == "locked":
            raise PermissionError(13, "Permission denied", path)
        return real_list(path)

    monkeypatch.setattr(expand, "_list_dir", list_dir)
    with pytest.raises(InputError, match="locked"):
        paths(["locked"])


def test_unreadable_folder_inside_a_walk_is_reported_and_skipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write("src/a.py")
    write("src/locked/b.py")
    real_list = expand._list_dir

    def list_dir(path: str):
        if os.path.basename(path) == "locked":
            raise PermissionError(13, "Permission denied", path)
        return real_list(path)

    monkeypatch.setattr(expand, "_list_dir", list_dir)
    context = ContextIngestionService(ContextSettings()).ingest(["src"], token_budget=1_000)

    assert [(f.path, f.status, f.reason) for f in context.files] == [
        ("src/a.py", "included", None),
        ("src/locked", "skipped", "unreadable"),
    ]


def test_broken_symlink_and_fifo_inside_a_folder_are_skipped_with_reasons() -> None:
    write("src/a.py")
    Path("src/dangling.py").symlink_to("gone.py")
    os.mkfifo("src/pipe")

    context = ContextIngestionService(ContextSettings()).ingest(["src"], token_budget=1_000)

    assert [(f.path, f.status, f.reason) for f in context.files] == [
        ("src/a.py", "included", None),
        ("src/dangling.py", "skipped", "broken symlink"),
        ("src/pipe", "skipped", "not a regular file"),
    ]


def test_fifo_or_broken_link_named_explicitly_is_an_input_error() -> None:
    os.mkfifo("pipe")
    Path("dangling").symlink_to("gone")
    with pytest.raises(InputError, match="pipe"):
        paths(["pipe"])
    with pytest.raises(InputError, match="dangling"):
        paths(["dangling"])


def test_empty_spec_is_an_input_error() -> None:
    with pytest.raises(InputError):
        paths([""])


def test_no_specs_is_an_empty_context_without_touching_the_disk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_listing(*args, **kwargs):
        raise AssertionError("listed files for an empty spec list")

    monkeypatch.setattr(expand, "expand_specs", no_listing)
    context = ContextIngestionService(ContextSettings()).ingest([], token_budget=5_000)

    assert context.attachments == [] and context.files == []
    assert context.total_tokens == 0 and context.budget == 5_000


def test_missing_non_utf8_spec_gives_a_printable_error() -> None:
    spec = os.fsdecode(b"caf\xe9.txt")  # how such a name arrives in argv

    with pytest.raises(InputError) as info:
        paths([spec])

    assert "caf\ufffd.txt" in info.value.message
    info.value.message.encode("utf-8")  # no lone surrogates to crash the console


def test_secret_looking_files_are_left_out_of_folders_and_globs_but_not_when_named() -> None:
    write("app/settings.py", "DEBUG = False\n")
    write("app/.env", "API_KEY=sk-live-123\n")
    write("app/.env.production", "API_KEY=sk-live-456\n")
    write("app/.env.example", "API_KEY=\n")
    write("app/certs/server.pem", "-----BEGIN PRIVATE KEY-----\n")
    write("app/id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----\n")
    service = ContextIngestionService(ContextSettings())

    walked = service.ingest(["app"], token_budget=100_000)
    # Globs skip dot-files as the shell does, so only the key files are at stake there.
    globbed = service.ingest(["app/**/*"], token_budget=100_000)
    named = service.ingest(["app/.env"], token_budget=100_000)

    def sent(context: ingest.IngestedContext) -> list[str]:
        text = "".join(a.content for a in context.attachments)
        assert "sk-live" not in text and "PRIVATE KEY" not in text
        return sorted(a.path for a in context.attachments)

    def skipped(context: ingest.IngestedContext) -> set[str]:
        reasons = {f.path: f.reason or "" for f in context.files if f.status == "skipped"}
        assert all("secrets" in reason for reason in reasons.values())
        return set(reasons)

    assert sent(walked) == ["app/.env.example", "app/settings.py"]
    assert skipped(walked) == {
        "app/.env",
        "app/.env.production",
        "app/certs/server.pem",
        "app/id_ed25519",
    }
    assert sent(globbed) == ["app/settings.py"]
    assert skipped(globbed) == {"app/certs/server.pem", "app/id_ed25519"}
    assert "sk-live-123" in named.attachments[0].content
