"""Typing through a suggestion costs no model call.

When the user types the characters a shown suggestion starts with, the editor asks again at the
new cursor; the answer is the rest of that suggestion, found here. An entry is keyed by the text
just before and just after the cursor (bounded tails, not the line windows, so a typed line break
still matches), and a lookup tries the current key with the last 0..N typed characters taken
back off the prefix: a hit is an entry whose text starts with exactly those characters.
"""

from __future__ import annotations

from collections import OrderedDict

#: Characters of text before / after the cursor that identify a position.
BEFORE_CHARS = 1500
AFTER_CHARS = 300
#: Typed characters looked back over for a suggestion being typed through.
MAX_TYPED = 128


class SuggestionCache:
    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[str, str, str], str] = OrderedDict()

    def put(self, document: str, before: str, after: str, text: str) -> None:
        key = (document, before[-BEFORE_CHARS:], after[:AFTER_CHARS])
        self._entries[key] = text
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def get(self, document: str, before: str, after: str) -> str | None:
        """The rest of a suggestion made here or a few typed characters back, else None."""
        head = after[:AFTER_CHARS]
        for typed in range(min(MAX_TYPED, len(before)) + 1):
            earlier = before[: len(before) - typed]
            text = self._entries.get((document, earlier[-BEFORE_CHARS:], head))
            if text is None:
                continue
            chars = before[len(before) - typed :]
            rest = text[typed:]
            if text.startswith(chars) and rest.strip():
                self._entries.move_to_end((document, earlier[-BEFORE_CHARS:], head))
                return rest
        return None

    def clear(self) -> None:
        self._entries.clear()


def around(text: str, offset: int) -> tuple[str, str]:
    """The bounded texts before and after ``offset`` that :class:`SuggestionCache` needs (enough
    to take back :data:`MAX_TYPED` typed characters and still have a whole key)."""
    return text[max(0, offset - BEFORE_CHARS - MAX_TYPED) : offset], text[offset : offset + AFTER_CHARS]
