"""The ring buffer of extra context: chunks of recently opened, edited and saved files.

A completion model sees only the windows around the cursor; llama.vim showed that a few chunks of
the files the user was just in (sent as llama.cpp's ``input_extra``) make suggestions use the
project's own names. Chunks are picked when a file is opened (its top), saved (around the last
edit) and when a suggestion is accepted (around it). A new chunk replaces any chunk that is
mostly the same lines, so the ring never holds two copies of one region; chunks much like the
current windows are left out of a request (the model sees those lines already).

Picked chunks wait in a queue and join the ring only on :meth:`RingBuffer.commit`: the server's
prompt cache holds everything up to the first changed chunk, so the ring changes rarely and all
at once (see the engine's commit policy) instead of on every keystroke.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass

#: A new chunk this similar to a held one replaces it.
SAME_CHUNK = 0.9
#: A chunk this similar to the current windows is not sent.
SAME_AS_CONTEXT = 0.5
#: Chunks with fewer non-blank lines carry too little to be worth their tokens.
MIN_LINES = 3


@dataclass(frozen=True)
class Chunk:
    filename: str
    text: str

    def lines(self) -> list[str]:
        return self.text.split("\n")


def similarity(a: list[str], b: list[str]) -> float:
    """Share of lines the two have in common (llama.vim's measure): 1.0 for the same lines."""
    if not a or not b:
        return 0.0
    common = sum((Counter(a) & Counter(b)).values())
    return 2.0 * common / (len(a) + len(b))


class RingBuffer:
    def __init__(self, max_chunks: int, chunk_lines: int) -> None:
        self.max_chunks = max_chunks
        self.chunk_lines = chunk_lines
        self._ring: deque[Chunk] = deque()
        self._queue: deque[Chunk] = deque()

    @property
    def chunks(self) -> list[Chunk]:
        return list(self._ring)

    @property
    def queued(self) -> int:
        return len(self._queue)

    def pick(self, filename: str, text: str, around_line: int | None = None) -> Chunk | None:
        """Queue the chunk of ``text`` centred on ``around_line`` (0-based; None: the top).
        Returns the chunk, or None when the ring is off or the chunk is too small."""
        if self.max_chunks <= 0:
            return None
        lines = text.split("\n")
        if around_line is None:
            start = 0
        else:
            start = max(0, min(around_line - self.chunk_lines // 2, len(lines) - self.chunk_lines))
        picked = lines[start : start + self.chunk_lines]
        if sum(1 for line in picked if line.strip()) < MIN_LINES:
            return None
        chunk = Chunk(filename, "\n".join(picked) + "\n")
        self._drop_similar(self._queue, chunk)
        self._queue.append(chunk)
        while len(self._queue) > self.max_chunks:
            self._queue.popleft()
        return chunk

    def commit(self) -> bool:
        """Move the queued chunks into the ring (oldest out first); True when the ring changed."""
        if not self._queue:
            return False
        while self._queue:
            chunk = self._queue.popleft()
            self._drop_similar(self._ring, chunk)
            self._ring.append(chunk)
        while len(self._ring) > self.max_chunks:
            self._ring.popleft()
        return True

    def extra(self, context_lines: list[str]) -> tuple[Chunk, ...]:
        """The ring's chunks, oldest first, without those much like the current windows."""
        return tuple(chunk for chunk in self._ring if similarity(chunk.lines(), context_lines) < SAME_AS_CONTEXT)

    @staticmethod
    def _drop_similar(chunks: deque[Chunk], new: Chunk) -> None:
        lines = new.lines()
        for held in [c for c in chunks if similarity(c.lines(), lines) >= SAME_CHUNK]:
            chunks.remove(held)
