"""Typing through a suggestion is answered from the cache."""

from __future__ import annotations

from agent_core.completion.cache import SuggestionCache, around


def test_typing_the_start_of_a_suggestion_returns_the_rest() -> None:
    cache = SuggestionCache()
    text = "def add(a, b):\n    "
    cache.put("doc", *around(text, len(text)), "return a + b")
    typed = text + "ret"
    assert cache.get("doc", *around(typed, len(typed))) == "urn a + b"
    assert cache.get("doc", *around(text, len(text))) == "return a + b"


def test_typing_something_else_misses() -> None:
    cache = SuggestionCache()
    text = "x = "
    cache.put("doc", *around(text, len(text)), "compute()")
    other = text + "q"
    assert cache.get("doc", *around(other, len(other))) is None
    assert cache.get("other-doc", *around(text, len(text))) is None


def test_a_suggestion_typed_to_its_end_misses() -> None:
    cache = SuggestionCache()
    cache.put("doc", "x = ", "", "1")
    assert cache.get("doc", "x = 1", "") is None


def test_a_typed_line_break_still_matches_in_a_long_document() -> None:
    cache = SuggestionCache()
    text = "# filler\n" * 5000 + "def f():"
    cache.put("doc", *around(text, len(text)), "\n    return 1")
    typed = text + "\n    "
    assert cache.get("doc", *around(typed, len(typed))) == "return 1"


def test_the_cache_is_bounded() -> None:
    cache = SuggestionCache(size=2)
    for i in range(3):
        cache.put("doc", f"p{i}", "", "text")
    assert cache.get("doc", "p0", "") is None and cache.get("doc", "p2", "") == "text"
