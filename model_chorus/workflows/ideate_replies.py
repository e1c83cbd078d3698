"""Reading ideate's model replies: ideas, clusters, scores and the recommendation.

Models are asked for JSON in a fenced block and answer with that, with a
markdown list, with numbered headings, with a table, or with prose. Each
parser here takes what it can find and says how it read the reply; it never
raises, so a poor reply becomes a warning upstream, not a crash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from model_chorus.workflows.ideas import SCORE_MAX, SCORE_MIN, SCORE_NAMES, Cluster, Idea
from model_chorus.workflows.replies import (
    extract_json,
    extract_table,
    find_labelled,
    strip_markdown,
)
from model_chorus.workflows.similarity import normalise

IdeaSource = Literal["json", "list", "headings", "paragraphs", "none"]

#: Longest title kept as is; longer ones are cut and the full text becomes the description.
TITLE_MAX = 100

_TITLE_KEYS = ("title", "name", "idea", "headline", "label")
_DESCRIPTION_KEYS = ("description", "details", "detail", "desc", "explanation", "summary", "why")
_LIST_KEYS = ("ideas", "items", "suggestions", "brainstorm", "results")

_ITEM = re.compile(r"^(?P<indent>[ \t]*)(?:[-*•+]|\d{1,3}[.)]|\(\d{1,3}\))[ \t]+(?P<text>\S.*)$")
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(?P<text>.+?)[ \t#]*$")
_NUMBERED = re.compile(r"^(?:idea[ \t]*)?\d{1,3}[ \t]*[.):\-–—][ \t]*", re.IGNORECASE)
_BOLD_TITLE = re.compile(r"^(?:\*\*|__)(?P<title>.+?)(?:\*\*|__)[ \t]*[:\-–—.]?[ \t]*(?P<rest>.*)$")
_SEPARATOR = re.compile(r"[ \t]+[—–-][ \t]+|:[ \t]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])[ \t]+")


@dataclass(frozen=True)
class IdeaDraft:
    title: str
    description: str = ""


@dataclass(frozen=True)
class ParsedIdeas:
    items: list[IdeaDraft]
    #: How the reply was read; "paragraphs" and "none" deserve a warning.
    source: IdeaSource


# --- ideas ------------------------------------------------------------------------


def parse_ideas(text: str) -> ParsedIdeas:
    """Ideas from a brainstorm reply: JSON, numbered headings, a list, else paragraphs."""
    from_json = _ideas_from_json(extract_json(text))
    if from_json:
        return ParsedIdeas(from_json, "json")
    lines = text.splitlines()
    headings = [
        i
        for i, line in enumerate(lines)
        if (m := _HEADING.match(line)) and _NUMBERED.match(m.group("text"))
    ]
    if len(headings) >= 2:
        return ParsedIdeas(_ideas_under_headings(lines, headings), "headings")
    listed = _list_blocks(lines)
    if listed:
        return ParsedIdeas([_draft(head, body) for head, body in listed], "list")
    paragraphs = [p.strip() for p in re.split(r"\n[ \t]*\n", text) if p.strip()]
    paragraphs = [p for p in paragraphs if not p.startswith("```")]
    if not paragraphs:
        return ParsedIdeas([], "none")
    return ParsedIdeas([_draft(p.replace("\n", " "), "") for p in paragraphs], "paragraphs")


def split_title(text: str) -> IdeaDraft:
    """Title and description of "**Title**: description", "Title — description", or a sentence."""
    text = _NUMBERED.sub("", text.strip(), count=1).strip()
    if match := _BOLD_TITLE.match(text):
        return IdeaDraft(
            _clean(match.group("title")).rstrip(":").strip(), _clean(match.group("rest"))
        )
    text = _clean(text)
    if match := _SEPARATOR.search(text[: TITLE_MAX + 3]):
        title, rest = text[: match.start()].strip(), text[match.end() :].strip()
        if title and len(title.split()) <= 12:
            return IdeaDraft(title, rest)
    if len(text) <= TITLE_MAX:
        return IdeaDraft(text, "")
    sentences = _SENTENCE_END.split(text, maxsplit=1)
    if len(sentences) == 2 and len(sentences[0]) <= TITLE_MAX:
        return IdeaDraft(sentences[0].rstrip("."), sentences[1])
    cut = text[:TITLE_MAX].rsplit(" ", 1)[0]
    return IdeaDraft(cut + "…", text)


def _draft(head: str, body: str) -> IdeaDraft:
    draft = split_title(head)
    if body:
        description = f"{draft.description} {body}".strip() if draft.description else body
        return IdeaDraft(draft.title, description)
    return draft


def _ideas_from_json(value: Any) -> list[IdeaDraft]:
    if isinstance(value, dict):
        value = next((value[k] for k in _LIST_KEYS if isinstance(value.get(k), list)), None)
    if not isinstance(value, list):
        return []
    drafts = []
    for item in value:
        if isinstance(item, str) and item.strip():
            drafts.append(split_title(item))
        elif isinstance(item, dict):
            title = _first_text(item, _TITLE_KEYS)
            description = _first_text(item, _DESCRIPTION_KEYS)
            if title:
                drafts.append(IdeaDraft(_clean(title), _clean(description or "")))
            elif description:
                drafts.append(split_title(description))
    return drafts


def _ideas_under_headings(lines: list[str], starts: list[int]) -> list[IdeaDraft]:
    drafts = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        match = _HEADING.match(lines[start])
        head = match.group("text") if match else lines[start]
        body_lines = [_ITEM.sub(r"\g<text>", line).strip() for line in lines[start + 1 : end]]
        body = _join([line for line in body_lines if line and not _HEADING.match(line)])
        drafts.append(_draft(head, _clean(body)))
    return drafts


def _list_blocks(lines: list[str]) -> list[tuple[str, str]]:
    """Top-level list items with their continuation (deeper items, wrapped lines)."""
    items = [(i, m) for i, line in enumerate(lines) if (m := _ITEM.match(line))]
    if not items:
        return []
    top = min(len(m.group("indent").expandtabs(4)) for _, m in items)
    blocks: list[tuple[str, list[str]]] = []
    blank_before = False
    for line in lines:
        match = _ITEM.match(line)
        indent = len(line) - len(line.lstrip(" \t"))
        if match and len(match.group("indent").expandtabs(4)) == top:
            blocks.append((match.group("text"), []))
        elif not line.strip():
            blank_before = True
            continue
        elif _HEADING.match(line):
            pass  # a section heading between lists ("## Quick wins") neither ends nor joins
        elif blocks and (indent > top or not blank_before):
            text = match.group("text") if match else line.strip()
            blocks[-1][1].append(text)
        elif blocks:
            # Prose after the list ("Let me know if ...") ends it.
            break
        blank_before = False
    return [(head, _clean(_join(body))) for head, body in blocks]


# --- clusters ---------------------------------------------------------------------

#: Scores some models give in words instead of numbers.
_SCORE_WORDS = {"very low": 1, "low": 2, "medium": 3, "moderate": 3, "high": 4, "very high": 5}

_IDEA_REF = re.compile(r"\b(?:I|idea)[ \t#\-]*(\d{1,4})\b", re.IGNORECASE)


def parse_clusters(text: str, ideas: list[Idea]) -> list[Cluster] | None:
    """Clusters referencing known idea ids; None when the reply names none.

    Accepts {"clusters": [{"theme", "idea_ids"}]}, a bare list of those, a
    {theme: [ids]} mapping, or markdown lines such as "**Caching**: I1, I4".
    Unknown ids are ignored here; ``complete_clusters`` places leftovers.
    """
    clusters = _clusters_from_json(extract_json(text), ideas)
    if clusters is None:
        clusters = _clusters_from_markdown(text, ideas)
    clusters = [c for c in clusters or [] if c.idea_ids]
    return clusters or None


def _clusters_from_json(value: Any, ideas: list[Idea]) -> list[Cluster] | None:
    if isinstance(value, dict):
        for key in ("clusters", "themes", "groups"):
            if key in value:
                value = value[key]
                break
        else:
            if value and all(isinstance(v, list) for v in value.values()):
                value = [{"theme": k, "idea_ids": v} for k, v in value.items()]
    if not isinstance(value, list):
        return None
    clusters = []
    for item in value:
        if not isinstance(item, dict):
            continue
        theme = _first_text(item, ("theme", "name", "title", "label", "cluster")) or ""
        raw: Any = next(
            (item[k] for k in ("idea_ids", "ideas", "ids", "members", "items") if k in item), []
        )
        refs: list[Any] = raw if isinstance(raw, list) else [raw]
        ids = [i for ref in refs if (i := idea_ref(ref, ideas)) is not None]
        clusters.append(Cluster(id="", theme=_clean(theme), idea_ids=ids))
    return clusters


def _clusters_from_markdown(text: str, ideas: list[Idea]) -> list[Cluster]:
    clusters: list[Cluster] = []
    theme: str | None = None
    for line in text.splitlines():
        refs = [i for ref in _IDEA_REF.findall(line) if (i := idea_ref(ref, ideas)) is not None]
        heading = _HEADING.match(line)
        label = _label_before_refs(line)
        if heading and not refs:
            theme = _clean(heading.group("text"))
            continue
        if not refs:
            if label and not _ITEM.match(line):
                theme = label
            continue
        if label:
            clusters.append(Cluster(id="", theme=label, idea_ids=refs))
            theme = None
        elif theme is not None and clusters and clusters[-1].theme == theme:
            clusters[-1].idea_ids.extend(refs)
        else:
            clusters.append(Cluster(id="", theme=theme or "Untitled theme", idea_ids=refs))
    return clusters


def _label_before_refs(line: str) -> str | None:
    """The theme of a line such as "**Caching** (I1, I3)" or "- Caching: I1, I3"."""
    body = _ITEM.sub(r"\g<text>", line).strip()
    body = _HEADING.sub(r"\g<text>", body)
    cut = re.split(r"[:(—–]|\s-\s|\b(?:I|idea)[ \t#\-]*\d", body, maxsplit=1, flags=re.IGNORECASE)[
        0
    ]
    label = _clean(cut).strip(" -")
    return label if label and len(label) <= 80 else None


def idea_ref(value: Any, ideas: list[Idea]) -> str | None:
    """An idea id from "I3", "i3", "3", 3, "#3", "Idea 3" or the idea's title."""
    ids = {idea.id for idea in ideas}
    if isinstance(value, int | float) and not isinstance(value, bool):
        candidate = f"I{int(value)}"
        return candidate if candidate in ids else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    match = re.fullmatch(r"(?:I|idea)?[ \t#\-]*(\d{1,4})", text, re.IGNORECASE)
    if match:
        candidate = f"I{int(match.group(1))}"
        return candidate if candidate in ids else None
    wanted = normalise(text)
    return next((idea.id for idea in ideas if normalise(idea.title) == wanted), None)


# --- scores and recommendation ----------------------------------------------------


@dataclass(frozen=True)
class ClusterScore:
    cluster_id: str
    scores: dict[str, float | None]
    rationale: str | None = None


@dataclass(frozen=True)
class Recommendation:
    cluster_id: str | None
    reason: str

    def to_dict(self, clusters: list[Cluster], source: str) -> dict[str, Any]:
        theme = next((c.theme for c in clusters if c.id == self.cluster_id), None)
        return {"cluster": self.cluster_id, "theme": theme, "reason": self.reason, "source": source}


def parse_scores(text: str, clusters: list[Cluster]) -> dict[str, ClusterScore]:
    """Scores per cluster id from JSON, a markdown table, or "C1: feasibility 4 ..." text.

    Values outside 1–5 are rescaled when given as a fraction ("8/10"), else dropped.
    """
    found = _scores_from_json(extract_json(text), clusters)
    if not found:
        found = _scores_from_table(text, clusters)
    if not found:
        found = _scores_from_prose(text, clusters)
    return found


def parse_recommendation(text: str, clusters: list[Cluster]) -> Recommendation | None:
    value = extract_json(text)
    if isinstance(value, dict) and (rec := value.get("recommendation")) is not None:
        if isinstance(rec, dict):
            ref = _first_value(rec, ("cluster", "cluster_id", "id", "theme"))
            reason = _first_text(rec, ("reason", "why", "rationale", "explanation")) or ""
            return Recommendation(cluster_ref(ref, clusters), _clean(reason))
        if isinstance(rec, str | int) and str(rec).strip():
            return Recommendation(_ref_in_text(str(rec), clusters), _clean(str(rec)))
    line = find_labelled(text, "Recommendation") or find_labelled(text, "Recommended")
    if line:
        reason = re.sub(r"^\W*(?:C|cluster[ \t#]*)\d+\b[\W_]*", "", line, flags=re.IGNORECASE)
        return Recommendation(_ref_in_text(line, clusters), _clean(reason).strip(" —–-:"))
    return None


def cluster_ref(value: Any, clusters: list[Cluster]) -> str | None:
    """A cluster id from "C2", "c2", "2", 2, "Cluster 2" or the cluster's theme."""
    ids = {c.id for c in clusters}
    if isinstance(value, int | float) and not isinstance(value, bool):
        candidate = f"C{int(value)}"
        return candidate if candidate in ids else None
    if not isinstance(value, str):
        return None
    match = re.fullmatch(r"\s*(?:C|cluster|theme)?[ \t#\-]*(\d{1,3})\s*", value, re.IGNORECASE)
    if match:
        candidate = f"C{int(match.group(1))}"
        return candidate if candidate in ids else None
    wanted = normalise(value)
    return next((c.id for c in clusters if normalise(c.theme) == wanted), None)


def score_value(value: Any) -> float | None:
    """4, "4", "4/5", "8/10", "4.5" → a value in 1–5; anything else → None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number, scale = float(value), None
    elif (word := " ".join(str(value).lower().replace("_", " ").split())) in _SCORE_WORDS:
        return _SCORE_WORDS[word]
    else:
        match = re.search(r"(\d+(?:\.\d+)?)\s*(?:/\s*(\d+(?:\.\d+)?)|out of\s*(\d+))?", str(value))
        if not match:
            return None
        number = float(match.group(1))
        scale_text = match.group(2) or match.group(3)
        scale = float(scale_text) if scale_text else None
    if scale:
        number = number * SCORE_MAX / scale
    if not SCORE_MIN <= number <= SCORE_MAX:
        return None
    number = round(number, 1)
    return int(number) if number.is_integer() else number


def _scores_from_json(value: Any, clusters: list[Cluster]) -> dict[str, ClusterScore]:
    if isinstance(value, dict):
        value = next(
            (value[k] for k in ("scores", "clusters", "themes", "ratings") if k in value), value
        )
    items: list[tuple[Any, Any]] = []
    if isinstance(value, list):
        items = [(None, item) for item in value]
    elif isinstance(value, dict):
        items = list(value.items())
    found: dict[str, ClusterScore] = {}
    for key, item in items:
        if not isinstance(item, dict):
            continue
        ref = _first_value(item, ("cluster", "cluster_id", "id", "theme", "name")) or key
        cluster_id = cluster_ref(ref, clusters)
        if cluster_id is None:
            continue
        nested = item.get("scores")
        source: dict[str, Any] = nested if isinstance(nested, dict) else item
        scores = {name: score_value(_lookup(source, name)) for name in SCORE_NAMES}
        rationale = _first_text(item, ("rationale", "reason", "notes", "comment", "why"))
        found[cluster_id] = ClusterScore(
            cluster_id, scores, _clean(rationale) if rationale else None
        )
    return found


def _scores_from_table(text: str, clusters: list[Cluster]) -> dict[str, ClusterScore]:
    found: dict[str, ClusterScore] = {}
    for row in extract_table(text):
        named = [v for k, v in row.items() if k in ("cluster", "id", "theme", "#", "name") and v]
        ref = named[0] if named else next(iter(row.values()), "")
        cluster_id = _ref_in_text(ref, clusters) if ref else None
        if cluster_id is None:
            continue
        scores = {name: score_value(_lookup(row, name)) for name in SCORE_NAMES}
        rationale = next(
            (v for k, v in row.items() if k in ("rationale", "reason", "notes", "why") and v), None
        )
        found[cluster_id] = ClusterScore(cluster_id, scores, rationale)
    return found


def _scores_from_prose(text: str, clusters: list[Cluster]) -> dict[str, ClusterScore]:
    """Split the reply at each mention of a cluster and read "feasibility: 4" in each part."""
    mentions: list[tuple[int, str]] = []
    for cluster in clusters:
        number = cluster.id[1:]
        patterns = [rf"\b(?:C|cluster[ \t#]*){number}\b"]
        if cluster.theme:
            patterns.append(re.escape(cluster.theme))
        for pattern in patterns:
            match = re.search(pattern, text, re.IGNORECASE)
            if match:
                mentions.append((match.start(), cluster.id))
                break
    mentions.sort()
    found: dict[str, ClusterScore] = {}
    for n, (start, cluster_id) in enumerate(mentions):
        end = mentions[n + 1][0] if n + 1 < len(mentions) else len(text)
        part = text[start:end]
        scores = {}
        for name in SCORE_NAMES:
            match = re.search(
                rf"{name}\W{{0,4}}(\d+(?:\.\d+)?(?:\s*/\s*\d+)?)", part, re.IGNORECASE
            )
            scores[name] = score_value(match.group(1)) if match else None
        if any(v is not None for v in scores.values()) and cluster_id not in found:
            found[cluster_id] = ClusterScore(cluster_id, scores)
    return found


def _ref_in_text(text: str, clusters: list[Cluster]) -> str | None:
    match = re.search(r"\b(?:C|cluster[ \t#]*)(\d{1,3})\b", text, re.IGNORECASE)
    if match and (found := cluster_ref(match.group(1), clusters)):
        return found
    lowered = normalise(text)
    return next((c.id for c in clusters if c.theme and normalise(c.theme) in lowered), None)


# --- small helpers ----------------------------------------------------------------


def _lookup(source: dict[str, Any], name: str) -> Any:
    """``source[name]`` with keys compared case-insensitively ("Feasibility", "impact ")."""
    for key, value in source.items():
        if str(key).strip().lower() == name:
            return value
    return None


def _first_value(item: dict[str, Any], keys: tuple[str, ...]) -> Any:
    return next((item[k] for k in keys if item.get(k) not in (None, "")), None)


def _first_text(item: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    value = _first_value(item, keys)
    if value is None:
        return None
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


def _join(pieces: list[str]) -> str:
    """Lines of one idea as a sentence run: "; " where a line has no closing punctuation."""
    text = ""
    for piece in pieces:
        if text:
            text += " " if text[-1] in ".!?:;," else "; "
        text += piece
    return text


def _clean(text: str) -> str:
    """Markdown emphasis gone, whitespace collapsed."""
    return " ".join(strip_markdown(text).split()) if text else ""
