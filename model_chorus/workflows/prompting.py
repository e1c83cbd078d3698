"""How history, files and the request become the one prompt a CLI tool receives.

The tools are driven one-shot (their own sessions are not reused), so each
call carries the conversation so far as a transcript. One renderer for every
workflow keeps the shape the models see consistent.
"""

from __future__ import annotations

from collections.abc import Sequence

from model_chorus.models import Attachment, Message, Role


def render_transcript(messages: Sequence[Message], *, omitted: int = 0) -> str:
    lines: list[str] = []
    if omitted:
        lines.append(f"[{omitted} earlier message(s) omitted to fit the context window]")
    for message in messages:
        who = "User" if message.role == Role.USER else "Assistant"
        if message.role == Role.ASSISTANT and message.provider:
            who = f"Assistant ({message.provider})"
        lines.append(f"{who}: {message.content}")
    return "\n\n".join(lines)


def render_attachments(attachments: Sequence[Attachment]) -> str:
    blocks = []
    for attachment in attachments:
        note = f' note="{attachment.note}"' if attachment.note else ""
        blocks.append(f'<file path="{attachment.path}"{note}>\n{attachment.content}\n</file>')
    return "\n\n".join(blocks)


def render_prompt(
    prompt: str,
    *,
    history: Sequence[Message] = (),
    omitted: int = 0,
    attachments: Sequence[Attachment] = (),
) -> str:
    """The full text sent to a provider. Without history or files it is the prompt itself."""
    sections: list[str] = []
    if history or omitted:
        sections.append(
            "<conversation_history>\n"
            + render_transcript(history, omitted=omitted)
            + "\n</conversation_history>"
        )
    if attachments:
        sections.append("<files>\n" + render_attachments(attachments) + "\n</files>")
    if not sections:
        return prompt
    sections.append(prompt)
    return "\n\n".join(sections)
