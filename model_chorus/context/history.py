"""The conversation history every workflow sends along, fitted to a token budget.

Two strategies:

``truncate``
    Keep the newest messages that fit; drop everything older.

``smart``
    Keep, in this order of priority, (1) the newest message, (2) the first user
    turn, which usually states the task, (3) the newest ``RECENT_MESSAGES``
    messages, newest first, until one does not fit, then (4) fill what budget is
    left with older messages by ``importance`` (ties go to the newer one). A
    message that does not fit is skipped and smaller ones may still go in.

Both return the chosen messages in their original order and never exceed the
budget. When even the newest message alone is bigger than the budget, its text
is cut and ends with ``TRUNCATION_MARKER`` rather than leaving no history at
all; ``smart`` does the same for the first user turn when there is room for a
useful part of it.

A message costs ``count_tokens(content) + MESSAGE_OVERHEAD_TOKENS``; the
overhead pays for the speaker label and blank line the transcript renderer adds.
Stored provider token counts are not used: they measure a whole prompt, not one
message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from model_chorus.context.tokens import count_tokens, truncate_to_tokens
from model_chorus.errors import InputError
from model_chorus.models import Message, Role

if TYPE_CHECKING:
    from model_chorus.store.database import ConversationDatabase

HistoryStrategy = Literal["truncate", "smart"]

#: Tokens per message for the transcript's "User: " / "Assistant (claude): " label and spacing.
MESSAGE_OVERHEAD_TOKENS = 4
#: How many of the newest messages ``smart`` keeps before it ranks by importance.
RECENT_MESSAGES = 4
#: Appended to a message whose text was cut to fit.
TRUNCATION_MARKER = "\n[… message truncated to fit the context window]"
#: A cut message must keep at least this many tokens of its text to be worth sending.
MIN_KEPT_TOKENS = 8
#: Assistant answers earn up to 1 point for length, reaching it at this many tokens.
_LENGTH_SCORE_TOKENS = 1_000


@dataclass
class ConversationHistory:
    messages: list[Message]  # chronological
    token_count: int
    omitted: int  # messages left out
    #: Messages among ``messages`` whose text was cut to fit (they end with TRUNCATION_MARKER).
    truncated: int = 0

    def summary(self) -> dict[str, int]:
        """What a workflow result reports about the history it sent (``data.history``)."""
        return {"messages": len(self.messages), "tokens": self.token_count, "omitted": self.omitted}


def message_tokens(message: Message) -> int:
    """What one message costs in the rendered transcript."""
    return count_tokens(message.content) + MESSAGE_OVERHEAD_TOKENS


def importance(message: Message, tokens: int) -> float:
    """How much an older message is worth keeping, for ``smart``.

    User turns state intent and constraints (+1). Messages with attached files
    anchor what the conversation is about (+1). Longer assistant answers carry
    more of the substance (up to +1, growing with length to 1,000 tokens).
    """
    score = 0.0
    if message.role == Role.USER:
        score += 1.0
    if message.files:
        score += 1.0
    if message.role == Role.ASSISTANT:
        score += min(tokens, _LENGTH_SCORE_TOKENS) / _LENGTH_SCORE_TOKENS
    return score


def build_conversation_history(
    store: ConversationDatabase,
    thread_id: str,
    max_tokens: int,
    strategy: HistoryStrategy = "smart",
) -> ConversationHistory:
    """The thread's messages that fit in ``max_tokens``, oldest first."""
    return select_history(store.get_messages(thread_id), max_tokens, strategy)


def select_history(
    messages: Sequence[Message], max_tokens: int, strategy: HistoryStrategy = "smart"
) -> ConversationHistory:
    """The selection behind ``build_conversation_history``, on messages already loaded."""
    if strategy not in ("truncate", "smart"):
        raise InputError(
            f"Unknown history strategy {strategy!r}.", hint="Use 'truncate' or 'smart'."
        )
    budget = max(max_tokens, 0)
    costs = [message_tokens(m) for m in messages]
    if sum(costs) <= budget:
        return ConversationHistory(list(messages), sum(costs), omitted=0)
    picker = _Picker(messages, costs, budget)
    if strategy == "truncate":
        picker.newest_run(len(messages))
        if not picker.kept:
            picker.take_shortened(len(messages) - 1, MIN_KEPT_TOKENS)
    else:
        picker.smart()
    return picker.result()


class _Picker:
    """Chosen messages by index, and the budget they leave."""

    def __init__(self, messages: Sequence[Message], costs: list[int], budget: int) -> None:
        self.messages = messages
        self.costs = costs
        self.budget = budget
        self.remaining = budget
        self.kept: dict[int, Message] = {}
        self.shortened = 0

    def take(self, index: int) -> bool:
        if index in self.kept:
            return True
        if self.costs[index] > self.remaining:
            return False
        self.kept[index] = self.messages[index]
        self.remaining -= self.costs[index]
        return True

    def take_shortened(self, index: int, min_tokens: int) -> None:
        """Keep the message whole if it fits, else as much of its start as fits."""
        if index < 0 or self.take(index):
            return
        cut = _shorten(self.messages[index], self.remaining, min_tokens)
        if cut is not None:
            self.kept[index] = cut
            self.remaining -= message_tokens(cut)
            self.shortened += 1

    def newest_run(self, count: int) -> None:
        """The newest ``count`` messages, newest first, stopping at the first that does not fit."""
        last = len(self.messages) - 1
        for index in range(last, max(last - count, -1), -1):
            if not self.take(index):
                return

    def smart(self) -> None:
        last = len(self.messages) - 1
        self.take_shortened(last, MIN_KEPT_TOKENS)
        first_user = next((i for i, m in enumerate(self.messages) if m.role == Role.USER), None)
        if first_user is not None:
            self.take_shortened(first_user, MIN_KEPT_TOKENS)
        self.newest_run(RECENT_MESSAGES)
        rest = [i for i in range(len(self.messages)) if i not in self.kept]
        rest.sort(key=lambda i: (importance(self.messages[i], self.costs[i]), i), reverse=True)
        for index in rest:
            self.take(index)

    def result(self) -> ConversationHistory:
        chosen = [self.kept[i] for i in sorted(self.kept)]
        return ConversationHistory(
            messages=chosen,
            token_count=self.budget - self.remaining,
            omitted=len(self.messages) - len(chosen),
            truncated=self.shortened,
        )


def _shorten(message: Message, budget: int, min_tokens: int) -> Message | None:
    """The message cut to fit ``budget`` with a marker, or None if too little would remain."""
    room = budget - MESSAGE_OVERHEAD_TOKENS - count_tokens(TRUNCATION_MARKER)
    while room >= min_tokens:
        cut = replace(
            message, content=truncate_to_tokens(message.content, room) + TRUNCATION_MARKER
        )
        over = message_tokens(cut) - budget
        if over <= 0:
            return cut
        # Tokens can merge or split where the cut text meets the marker; retry smaller.
        room -= over
    return None
