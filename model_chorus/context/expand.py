"""Turn ``-f`` specs (files, directories, globs) into the list of files to read.

Rules, in the order they apply:

* Specs resolve from the working directory the service was given, never from
  anywhere else; absolute specs are taken as they are.
* A spec that exists is a file or a directory; otherwise, if it contains
  ``*``, ``?`` or ``[``, it is a glob (``**`` spans directories; wildcards do
  not match names starting with a dot, as in the shell). A glob that matches
  a directory takes all files below it.
* Directories are walked recursively in sorted order, skipping version-control
  folders, virtualenvs (any folder with ``pyvenv.cfg``), caches, dependency and
  build output folders, and whatever ``.gitignore`` files say: those of the
  repository the directory sits in (from its root down) and every nested one.
  A folder named explicitly as the spec itself is never skipped.
* Files whose names usually hold credentials (``.env``, ``*.pem``, SSH keys ...,
  see ``SECRET_FILE_PATTERNS``) are left out of folders and globs, reported as
  skipped; a file named directly is always taken.
* Each file appears once (first occurrence wins, compared by real path).
  Symlinked folders are followed but each real folder is entered once, so
  loops end.
* A missing or unreadable spec, or one that yields no file, is an InputError
  raised before anything is read. Trouble with an entry *inside* a directory
  (unreadable folder, broken symlink or symlink loop, a FIFO) becomes a skipped
  entry instead — for a glob, only when the glob matches the entry's name.
"""

# The walk works on ``str`` paths and ``os.DirEntry`` on purpose: it visits tens of
# thousands of entries and keeps non-UTF-8 names as surrogate escapes.
# ruff: noqa: PTH100, PTH110, PTH112, PTH116, PTH118, PTH120

from __future__ import annotations

import errno
import fnmatch
import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from model_chorus.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Iterable

#: Folder names never worth sending to a model: VCS data, environments, caches, output.
IGNORED_DIR_NAMES = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".bzr",
        "_darcs",
        "CVS",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "node_modules",
        "bower_components",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".hypothesis",
        ".ipynb_checkpoints",
        ".eggs",
        ".gradle",
        ".next",
        ".nuxt",
        ".terraform",
        "htmlcov",
        "build",
        "dist",
        "target",
    }
)
IGNORED_DIR_SUFFIXES = (".egg-info",)
#: A folder holding one of these is a Python or conda environment, whatever its name.
ENVIRONMENT_MARKERS = ("pyvenv.cfg", "conda-meta")
#: File names that usually hold credentials. Found inside a folder or by a glob they
#: are left out (reported as skipped); naming one directly with -f still sends it.
SECRET_FILE_PATTERNS = (
    ".env",
    ".env.*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.keystore",
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
    ".netrc",
    ".pgpass",
)
#: Templates of secret files carry no secrets and help the model understand set-up.
SECRET_TEMPLATE_SUFFIXES = (".example", ".sample", ".template", ".dist")
SECRET_REASON = "may hold secrets (name the file with -f to send it)"
GLOB_MAGIC = re.compile(r"[*?\[]")
SKIP_HINT = (
    "Folders such as .git, node_modules, virtualenvs and build output are skipped, "
    "as is anything a .gitignore file lists."
)


@dataclass(frozen=True)
class Candidate:
    """A file to read, or an entry found while listing that will be reported as skipped."""

    #: Path to open (absolute; may hold surrogate escapes from non-UTF-8 names).
    path: str
    #: Path shown to the user: relative to the working directory, printable.
    display: str
    size: int
    #: Named directly by a spec: trouble reading it is the user's input error.
    explicit: bool = False
    #: Why it cannot be read, found while listing ("unreadable", "broken symlink" ...).
    problem: str | None = None


def display_path(path: str, cwd: str) -> str:
    """``path`` relative to ``cwd`` when inside it, else absolute; always printable."""
    normal = os.path.normpath(path)
    if normal == cwd:
        shown = "."
    elif normal.startswith(cwd.rstrip(os.sep) + os.sep):
        shown = os.path.relpath(normal, cwd)
    else:
        shown = normal
    return printable(shown)


def printable(name: str) -> str:
    """Undo surrogate escapes from non-UTF-8 file names, with U+FFFD for bad bytes."""
    return os.fsencode(name).decode("utf-8", "replace")


def expand_specs(
    specs: Sequence[str], cwd: str, *, on_found: Callable[[int], None] | None = None
) -> list[Candidate]:
    """Every file the specs name, in order, each once. Raises InputError for bad specs."""
    seen: set[str] = set()
    found: list[Candidate] = []
    for spec in specs:
        for candidate, real in _expand_one(spec, cwd):
            if real in seen:
                continue
            seen.add(real)
            found.append(candidate)
            if on_found is not None and len(found) % 256 == 0:
                on_found(len(found))
    return found


def _expand_one(spec: str, cwd: str) -> Iterator[tuple[Candidate, str]]:
    if not spec.strip():
        raise InputError("An empty file path was given.", hint="Pass a file, folder or glob.")
    path = os.path.join(cwd, spec)
    if not os.path.lexists(path):
        if GLOB_MAGIC.search(spec):
            yield from _expand_glob(spec, cwd)
            return
        raise InputError(
            f"File not found: {printable(spec)}",
            hint=f"Paths are resolved from the working directory ({printable(cwd)}).",
        )
    try:
        st = os.stat(path)
    except OSError as exc:
        raise InputError(
            f"Cannot read {printable(spec)}: {exc.strerror or exc}",
            hint="It may be a broken symlink; check that its target exists.",
        ) from exc
    if stat.S_ISDIR(st.st_mode):
        yield from _expand_dir(spec, path, cwd)
    elif stat.S_ISREG(st.st_mode):
        _check_readable_file(spec, path)
        yield (
            Candidate(path, display_path(path, cwd), st.st_size, explicit=True),
            os.path.realpath(path),
        )
    else:
        raise InputError(
            f"{printable(spec)} is not a regular file or folder.",
            hint="Pipes and devices cannot be attached; copy the content to a file first.",
        )


def _check_readable_file(spec: str, path: str) -> None:
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise InputError(
            f"Cannot read {printable(spec)}: {exc.strerror or exc}",
            hint="Check the file's permissions.",
        ) from exc


def _expand_dir(spec: str, path: str, cwd: str) -> Iterator[tuple[Candidate, str]]:
    try:
        _list_dir(path)
    except OSError as exc:
        raise InputError(
            f"Cannot read folder {printable(spec)}: {exc.strerror or exc}",
            hint="Check the folder's permissions.",
        ) from exc
    any_file = False
    for item in _walk(path, _inherited_ignores(path), display_path(path, cwd)):
        any_file = True
        yield item
    if not any_file:
        raise InputError(f"No files to read in folder {printable(spec)}.", hint=SKIP_HINT)


def _expand_glob(spec: str, cwd: str) -> Iterator[tuple[Candidate, str]]:
    parts = spec.split("/")
    literal = 0
    while literal < len(parts) and not GLOB_MAGIC.search(parts[literal]):
        literal += 1
    base_spec = "/".join(parts[:literal]) or ("/" if spec.startswith("/") else ".")
    base = os.path.join(cwd, base_spec)
    pattern = [p for p in parts[literal:] if p]
    matcher = _GlobMatcher(pattern)
    any_file = False
    if os.path.isdir(base):
        rules = _inherited_ignores(base)
        shown = display_path(base, cwd)
        for item in _walk(base, rules, shown, matcher=matcher):
            any_file = True
            yield item
    if not any_file:
        raise InputError(
            f"No files match {printable(spec)!r}.",
            hint=f"Globs match from the working directory. {SKIP_HINT}",
        )


# -- ignore rules ----------------------------------------------------------------------


@dataclass(frozen=True)
class _IgnoreFile:
    base: str  # folder the .gitignore sits in; its patterns are relative to it
    spec: Any  # pathspec.GitIgnoreSpec


def _load_ignore_file(folder: str, path: str) -> _IgnoreFile | None:
    import pathspec

    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    if not any(line.strip() and not line.startswith("#") for line in lines):
        return None
    return _IgnoreFile(folder, pathspec.GitIgnoreSpec.from_lines(lines))


def _inherited_ignores(folder: str) -> tuple[_IgnoreFile, ...]:
    """The .gitignore files above ``folder`` up to its repository root, outermost first.

    Outside a repository nothing is inherited; ``folder``'s own .gitignore and
    the nested ones are read by the walk as it enters each folder.
    """
    above: list[str] = []
    current = os.path.abspath(folder)
    while not os.path.exists(os.path.join(current, ".git")):
        parent = os.path.dirname(current)
        if parent == current:
            return ()
        above.append(parent)
        current = parent
    ignores = [_load_ignore_file(current, os.path.join(current, ".git", "info", "exclude"))]
    ignores += [_load_ignore_file(d, os.path.join(d, ".gitignore")) for d in reversed(above)]
    return tuple(i for i in ignores if i is not None)


def _is_ignored(ignores: Iterable[_IgnoreFile], path: str, is_dir: bool) -> bool:
    """Git's rule: the last pattern that matches decides, inner files over outer ones."""
    verdict = False
    for ignore in ignores:
        rel = os.path.relpath(path, ignore.base)
        if rel.startswith(".."):
            continue
        result = ignore.spec.check_file(rel + "/" if is_dir else rel)
        if result.include is not None:
            verdict = bool(result.include)
    return verdict


# -- globs -----------------------------------------------------------------------------


def _translate_part(part: str) -> str:
    """One path component of a glob as a regex that never crosses ``/``."""
    out = [] if part.startswith(".") else [r"(?!\.)"]
    i = 0
    while i < len(part):
        char = part[i]
        i += 1
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = part.find("]", i + 1 if i < len(part) and part[i] in "!^]" else i)
            if end == -1:
                out.append(re.escape(char))
                continue
            body = part[i:end]
            i = end + 1
            negate = body[:1] in ("!", "^")
            escaped = "".join(c if c == "-" else re.escape(c) for c in body[int(negate) :])
            out.append("[" + ("^" if negate else "") + escaped + "]")
        else:
            out.append(re.escape(char))
    return "".join(out)


class _GlobMatcher:
    """Matches paths relative to the glob's literal base; prunes folders it cannot match."""

    def __init__(self, parts: list[str]) -> None:
        self.recursive = "**" in parts
        self.parts = [re.compile(_translate_part(p)) for p in parts if p != "**"]
        any_dirs = r"(?:(?!\.)[^/]+/)*"
        pieces = []
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if part == "**":
                pieces.append(any_dirs + (r"(?!\.)[^/]+" if last else ""))
            else:
                pieces.append(_translate_part(part) + ("" if last else "/"))
        self.full = re.compile("".join(pieces))

    def matches(self, rel: str) -> bool:
        return self.full.fullmatch(rel) is not None

    def may_hold_matches(self, rel_dir: str) -> bool:
        """Whether files below folder ``rel_dir`` could match (prunes ``*.py``-style walks)."""
        if self.recursive:
            return True
        names = rel_dir.split("/")
        if len(names) >= len(self.parts):
            return False
        return all(p.fullmatch(n) for p, n in zip(self.parts, names, strict=False))


# -- the walk --------------------------------------------------------------------------


def _list_dir(path: str) -> list[os.DirEntry[str]]:
    with os.scandir(path) as entries:
        return sorted(entries, key=lambda e: e.name)


def _skip_dir_by_name(name: str, path: str) -> bool:
    if name in IGNORED_DIR_NAMES or name.endswith(IGNORED_DIR_SUFFIXES):
        return True
    return any(os.path.exists(os.path.join(path, marker)) for marker in ENVIRONMENT_MARKERS)


@dataclass
class _Dir:
    path: str
    rel: str  # relative to the walk root, "" for the root
    real: str
    ignores: tuple[_IgnoreFile, ...]
    #: Everything below is wanted (the root of a folder spec, or a folder a glob matched).
    take_all: bool


def _walk(
    root: str,
    ignores: tuple[_IgnoreFile, ...],
    shown_root: str,
    *,
    matcher: _GlobMatcher | None = None,
) -> Iterator[tuple[Candidate, str]]:
    """Depth-first, sorted by name, so the order is that of the sorted relative paths."""
    visited: set[str] = set()
    prefix = "" if shown_root == "." else shown_root.rstrip("/") + "/"
    stack: list[_Dir | tuple[Candidate, str]] = [
        _Dir(root, "", os.path.realpath(root), ignores, take_all=matcher is None)
    ]
    while stack:
        item = stack.pop()
        if not isinstance(item, _Dir):
            yield item
            continue
        if item.real in visited:
            continue  # a symlink loop, or a folder reached twice through links
        visited.add(item.real)
        try:
            entries = _list_dir(item.path)
        except FileNotFoundError:
            continue  # vanished while we walked
        except OSError:
            yield (
                Candidate(item.path, prefix + printable(item.rel), 0, problem="unreadable"),
                (item.real),
            )
            continue
        local = item.ignores
        if any(e.name == ".gitignore" for e in entries):
            loaded = _load_ignore_file(item.path, os.path.join(item.path, ".gitignore"))
            if loaded is not None:
                local = (*local, loaded)
        children: list[_Dir | tuple[Candidate, str]] = []
        for entry in entries:
            child = _child(entry, item, local, prefix, matcher)
            if child is not None:
                children.append(child)
        stack.extend(reversed(children))


def _child(
    entry: os.DirEntry[str],
    parent: _Dir,
    ignores: tuple[_IgnoreFile, ...],
    prefix: str,
    matcher: _GlobMatcher | None,
) -> _Dir | tuple[Candidate, str] | None:
    rel = f"{parent.rel}/{entry.name}" if parent.rel else entry.name
    shown = prefix + printable(rel)
    unusable: str | None = None
    try:
        is_dir = entry.is_dir()
        is_file = not is_dir and entry.is_file()
    except OSError as exc:
        # Following the entry failed: a symlink loop, or a target we may not stat.
        # No folder to enter; it is reported as a skipped file below, but only if
        # the glob wants it, so a glob matching nothing still fails.
        is_dir = is_file = False
        unusable = "broken symlink" if exc.errno == errno.ELOOP else "unreadable"
    if is_dir:
        if _skip_dir_by_name(entry.name, entry.path) or _is_ignored(ignores, entry.path, True):
            return None
        take_all = parent.take_all or (matcher is not None and matcher.matches(rel))
        if not take_all and matcher is not None and not matcher.may_hold_matches(rel):
            return None
        real = os.path.realpath(entry.path) if entry.is_symlink() else f"{parent.real}/{entry.name}"
        return _Dir(entry.path, rel, real, ignores, take_all)
    if not parent.take_all and (matcher is None or not matcher.matches(rel)):
        return None
    if _is_ignored(ignores, entry.path, False):
        return None
    if looks_secret(entry.name):
        return Candidate(entry.path, shown, 0, problem=SECRET_REASON), entry.path
    if unusable is not None:
        return Candidate(entry.path, shown, 0, problem=unusable), entry.path
    if not is_file:
        if entry.is_symlink() and not os.path.exists(entry.path):
            return Candidate(entry.path, shown, 0, problem="broken symlink"), entry.path
        return Candidate(entry.path, shown, 0, problem="not a regular file"), entry.path
    try:
        size = entry.stat().st_size
    except FileNotFoundError:
        return Candidate(entry.path, shown, 0, problem="vanished"), entry.path
    except OSError:
        return Candidate(entry.path, shown, 0, problem="unreadable"), entry.path
    real = os.path.realpath(entry.path) if entry.is_symlink() else f"{parent.real}/{entry.name}"
    return Candidate(entry.path, shown, size), real


def looks_secret(name: str) -> bool:
    if name.endswith(SECRET_TEMPLATE_SUFFIXES):
        return False
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in SECRET_FILE_PATTERNS)
