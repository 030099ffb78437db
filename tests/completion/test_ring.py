"""The ring of extra chunks: picked, deduplicated, committed, filtered against the context."""

from __future__ import annotations

from agent_core.completion.ring import RingBuffer, similarity

MODULE = "".join(f"def helper_{i}(x):\n    return x + {i}\n" for i in range(40))


def test_a_picked_chunk_joins_the_ring_only_on_commit() -> None:
    ring = RingBuffer(4, 8)
    chunk = ring.pick("util.py", MODULE)
    assert chunk is not None and chunk.text.startswith("def helper_0(x):") and chunk.text.count("\n") == 8
    assert ring.chunks == [] and ring.queued == 1
    assert ring.commit() and ring.chunks == [chunk] and ring.queued == 0
    assert not ring.commit()


def test_a_chunk_much_like_a_held_one_replaces_it() -> None:
    ring = RingBuffer(4, 32)
    ring.pick("util.py", MODULE, around_line=20)
    ring.commit()
    edited = MODULE.replace("return x + 10", "return x + 100")
    ring.pick("util.py", edited, around_line=20)
    ring.commit()
    assert len(ring.chunks) == 1 and "x + 100" in ring.chunks[0].text


def test_the_ring_keeps_the_newest_chunks() -> None:
    ring = RingBuffer(2, 4)
    for name in ("a.py", "b.py", "c.py"):
        ring.pick(name, MODULE.replace("helper", name[0]))
        ring.commit()
    assert [c.filename for c in ring.chunks] == ["b.py", "c.py"]


def test_chunks_like_the_current_windows_are_not_sent() -> None:
    ring = RingBuffer(4, 8)
    ring.pick("util.py", MODULE)
    ring.pick("other.py", "import os\nimport sys\nprint(os.sep)\nprint(sys.argv)\n")
    ring.commit()
    extra = ring.extra(MODULE.split("\n")[:10])
    assert [c.filename for c in extra] == ["other.py"]


def test_tiny_chunks_and_a_ring_of_zero_pick_nothing() -> None:
    assert RingBuffer(4, 8).pick("a.py", "x = 1\n") is None
    assert RingBuffer(0, 8).pick("a.py", MODULE) is None


def test_similarity() -> None:
    assert similarity(["a", "b"], ["a", "b"]) == 1.0
    assert similarity(["a", "b"], ["c", "d"]) == 0.0
    assert similarity([], ["a"]) == 0.0
