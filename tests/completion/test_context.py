"""Prefix and suffix windows in lines, cut around the cursor without touching the rest."""

from __future__ import annotations

import time

from agent_core.completion.context import build_context


def test_windows_are_whole_lines_around_the_cursor_line() -> None:
    text = "".join(f"line {i}\n" for i in range(10))
    offset = text.index("line 5") + 4
    ctx = build_context(text, offset, prefix_lines=2, suffix_lines=2, path="a.py")
    assert ctx.prefix == "line 3\nline 4\n"
    assert ctx.middle == "line"
    assert ctx.suffix == " 5\nline 6\nline 7"
    assert ctx.line_rest == " 5" and ctx.mid_line


def test_windows_stop_at_the_ends_of_the_document() -> None:
    ctx = build_context("a\nb", 0, prefix_lines=5, suffix_lines=5, path="a.py")
    assert (ctx.prefix, ctx.middle, ctx.suffix) == ("", "", "a\nb")
    ctx = build_context("a\nb", 3, prefix_lines=5, suffix_lines=5, path="a.py")
    assert (ctx.prefix, ctx.middle, ctx.suffix) == ("a\n", "b", "")
    assert not ctx.mid_line


def test_offsets_outside_the_text_are_clamped() -> None:
    assert build_context("abc", 99, prefix_lines=1, suffix_lines=1, path="a").middle == "abc"
    assert build_context("abc", -5, prefix_lines=1, suffix_lines=1, path="a").suffix == "abc"


def test_indent_is_the_cursor_lines_leading_whitespace() -> None:
    assert build_context("def f():\n    x", 14, prefix_lines=1, suffix_lines=1, path="a").indent == 4
    assert build_context("def f():\n    ", 13, prefix_lines=1, suffix_lines=1, path="a").indent == 4
    assert build_context("\tif x:", 6, prefix_lines=1, suffix_lines=1, path="a").indent == 1


def test_cost_does_not_grow_with_the_document() -> None:
    small = "x = 1\n" * 1_000
    large = "x = 1\n" * 100_000

    def cost(text: str) -> float:
        offset = len(text) // 2
        start = time.perf_counter()
        for _ in range(200):
            build_context(text, offset, prefix_lines=64, suffix_lines=16, path="a.py")
        return time.perf_counter() - start

    cost(small)  # warm up
    assert cost(large) < cost(small) * 5 + 0.05
