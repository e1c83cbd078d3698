"""Tolerant reading of structured data out of model replies.

Models asked for JSON answer with prose around it, in a fenced block, with
trailing commas, or as a markdown list instead. Every workflow that parses
replies goes through these functions, which return None / [] instead of
raising, so a reply that cannot be parsed degrades to a warning upstream.
"""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n(.*?)```", re.DOTALL)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_LIST_ITEM = re.compile(r"^\s*(?:[-*•+]|\d{1,3}[.)]|\(\d{1,3}\))\s+(.*\S)\s*$")


def extract_json(text: str) -> Any | None:
    """The first JSON value found in ``text``: a fenced block, the whole text, or
    the first balanced ``{...}``/``[...]``. None when there is none."""
    candidates = [m.group(1) for m in _FENCE.finditer(text)]
    candidates.append(text)
    for candidate in candidates:
        value = _loads_lenient(candidate.strip())
        if value is not None:
            return value
        for start, opener in ((i, c) for i, c in enumerate(candidate) if c in "{["):
            end = _balanced_end(candidate, start, opener)
            if end is None:
                continue
            value = _loads_lenient(candidate[start : end + 1])
            if value is not None:
                return value
    return None


def extract_json_object(text: str, *keys: str) -> dict[str, Any] | None:
    """Like ``extract_json`` but only a dict; with ``keys``, one having any of them."""
    value = extract_json(text)
    if isinstance(value, dict) and (not keys or any(k in value for k in keys)):
        return value
    # The first JSON value may be a list; look for a dict inside fences or the text.
    for match in re.finditer(r"\{", text):
        end = _balanced_end(text, match.start(), "{")
        if end is None:
            continue
        candidate = _loads_lenient(text[match.start() : end + 1])
        if isinstance(candidate, dict) and (not keys or any(k in candidate for k in keys)):
            return candidate
    return None


def extract_list_items(text: str) -> list[str]:
    """Markdown bullet or numbered items, with emphasis markers stripped."""
    items = []
    for line in text.splitlines():
        match = _LIST_ITEM.match(line)
        if match:
            items.append(strip_markdown(match.group(1)))
    return [item for item in items if item]


def strip_markdown(text: str) -> str:
    # Emphasis markers only at word edges: ``auth_token_ttl`` keeps its underscores.
    text = re.sub(r"(?<!\w)([*_`]{1,3})([^*_`\n]+?)\1(?!\w)", r"\2", text)
    return text.strip().strip("*_` ").strip()


def find_labelled(text: str, label: str) -> str | None:
    """The value after ``Label:`` on a line ("**Confidence:** high" included)."""
    pattern = re.compile(
        rf"^\W*{re.escape(label)}\W*?\s*[:=\-]\s*\**\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE
    )
    match = pattern.search(text)
    return strip_markdown(match.group(1)) if match else None


def _loads_lenient(text: str) -> Any | None:
    if not text or text[0] not in "{[":
        return None
    for attempt in (text, _TRAILING_COMMA.sub(r"\1", text)):
        try:
            return json.loads(attempt)
        except json.JSONDecodeError:
            continue
    return None


def _balanced_end(text: str, start: int, opener: str) -> int | None:
    closer = "}" if opener == "{" else "]"
    depth = 0
    in_string = False
    escaped = False
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch == opener:
            depth += 1
        elif ch == closer:
            depth -= 1
            if depth == 0:
                return i
    return None


# --- labelled sections (E1: argument key points, consensus synthesis) ---------------

_SECTION_REST = r"\s*(?:\([^)\n]*\))?[*_]*\s*(?:[:\-–—][*_]*\s*(?P<rest>.*?))?\s*$"


def find_section_items(text: str, *labels: str) -> list[str] | None:
    """The list under a ``Label:`` line or ``## Label`` heading.

    Models write the same section as "Key points:", "**Key Points:**",
    "### Key points" or "Key points: a; b", so any of ``labels`` (spaces
    flexible, case ignored) at the start of a line counts, with items either
    listed below it or inline after the colon (split on ";"). The last such
    section that has items wins, since closing summaries come last. None when
    no label occurs at all; [] when one does but nothing is listed.
    """
    names = "|".join(re.escape(label).replace(r"\ ", r"\s*") for label in labels)
    pattern = re.compile(rf"^[\s#>*_\-•]*(?:{names}){_SECTION_REST}", re.IGNORECASE)
    lines = text.splitlines()
    found: list[str] | None = None
    for index, line in enumerate(lines):
        match = pattern.match(line)
        if not match:
            continue
        items = _items_from(lines[index + 1 :])
        rest = strip_markdown(match.group("rest") or "")
        if not items and rest:
            items = [strip_markdown(part) for part in rest.split(";") if part.strip()]
        if items or found is None:
            found = items
    return found


def extract_last_list(text: str) -> list[str]:
    """The items of the last list in ``text`` (where closing summaries usually are)."""
    last: list[str] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if _LIST_ITEM.match(lines[index]):
            block = _items_from(lines[index:])
            if block:
                last = block
            # Skip past this block: its items and any blank or continuation lines.
            index += 1
            while index < len(lines) and (
                _LIST_ITEM.match(lines[index])
                or not lines[index].strip()
                or lines[index][:1] in (" ", "\t")
            ):
                index += 1
            continue
        index += 1
    return last


def _items_from(lines: list[str]) -> list[str]:
    """Consecutive list items at the top of ``lines``; blank lines between items and
    indented continuation lines are allowed, anything else ends the list."""
    items: list[str] = []
    for line in lines:
        if not line.strip():
            continue
        match = _LIST_ITEM.match(line)
        if match:
            if item := strip_markdown(match.group(1)):
                items.append(item)
            continue
        if items and line[:1] in (" ", "\t"):
            items[-1] = f"{items[-1]} {strip_markdown(line)}"
            continue
        break
    return items


def find_labelled_or_heading(text: str, label: str) -> str | None:
    """``find_labelled``, else the first line under a heading that is only the label
    ("## Verdict" / "**Verdict**" followed by the text on the next line)."""
    if value := find_labelled(text, label):
        return value
    heading = re.compile(
        rf"^\s*(?:#+\s*)?(?:\*\*|__)?\s*{re.escape(label)}\s*:?\s*(?:\*\*|__)?\s*$",
        re.IGNORECASE | re.MULTILINE,
    )
    match = heading.search(text)
    if not match:
        return None
    for line in text[match.end() :].splitlines():
        if line.strip():
            return None if line.lstrip().startswith("#") else strip_markdown(line) or None
    return None


# --- tables and labelled blocks (E2: ideate scores, thinkdeep findings) ------------

_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_LABEL_LINE = re.compile(r"^\W*[A-Za-z][A-Za-z _-]{0,30}\W*?\s*:")


def extract_table(text: str) -> list[dict[str, str]]:
    """Rows of the first markdown pipe table, keyed by lower-cased header text.

    Models asked for scores often answer with a table instead of JSON. Cells
    are stripped of markdown; rows with fewer cells get empty strings.
    """
    lines = text.splitlines()
    for index in range(len(lines) - 1):
        if "|" not in lines[index] or not _TABLE_RULE.match(lines[index + 1]):
            continue
        header = [strip_markdown(cell).lower() for cell in _cells(lines[index])]
        rows = []
        for line in lines[index + 2 :]:
            if "|" not in line:
                break
            cells = [strip_markdown(cell) for cell in _cells(line)]
            cells += [""] * (len(header) - len(cells))
            rows.append(dict(zip(header, cells, strict=False)))
        return rows
    return []


def find_labelled_block(text: str, label: str) -> str | None:
    """The text after ``Label:``, continued on the following lines up to a blank
    line or the next ``Other label:`` line or heading — for answers like
    "Findings:" that run over several lines or hold a list."""
    pattern = re.compile(
        rf"^[^\w\n]*{re.escape(label)}[^\w\n]*?[ \t]*[:=][ \t]*\**[ \t]*([^\n]*?)[ \t]*$",
        re.IGNORECASE | re.MULTILINE,
    )
    match = pattern.search(text)
    if not match:
        return None
    parts = [match.group(1)] if match.group(1) else []
    for line in text[match.end() :].splitlines()[1:]:
        if not line.strip():
            if parts:
                break
            continue
        if (_LABEL_LINE.match(line) and not _LIST_ITEM.match(line)) or line.lstrip()[:1] == "#":
            break
        parts.append(line.strip())
    # Only outer emphasis goes: identifiers such as auth_token_ttl must survive intact.
    block = "\n".join(parts).strip().strip("*").strip()
    return block or None


def _cells(line: str) -> list[str]:
    stripped = line.strip()
    if stripped.startswith("|"):
        stripped = stripped[1:]
    if stripped.endswith("|"):
        stripped = stripped[:-1]
    return [cell.strip() for cell in stripped.split("|")]
