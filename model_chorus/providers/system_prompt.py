"""System prompts for tools that have no flag for one.

Gemini CLI, Codex CLI and cursor-agent take no system prompt on the command
line in headless mode, so it travels at the top of the stdin text, in a block
whose markers make plain where the instructions end and the request begins.
"""

from __future__ import annotations

SYSTEM_START = "<system_instructions>"
SYSTEM_END = "</system_instructions>"


def inline_system_prompt(prompt: str, system_prompt: str | None) -> str:
    """``prompt`` preceded by a delimited ``system_prompt`` block (unchanged when there is none)."""
    if not system_prompt or not system_prompt.strip():
        return prompt
    return (
        f"{SYSTEM_START}\n"
        "Follow these instructions for your whole reply:\n"
        f"{system_prompt.strip()}\n"
        f"{SYSTEM_END}\n\n"
        f"{prompt}"
    )
