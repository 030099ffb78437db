"""The rules every suggestion passes (agent_core.completion.quality), one complaint each."""

from __future__ import annotations

from agent_core.completion.context import build_context
from agent_core.completion.quality import clean


def at_marker(text: str) -> tuple[str, int]:
    offset = text.index("|")
    return text.replace("|", "", 1), offset


def clean_at(document: str, raw: str) -> str:
    text, offset = at_marker(document)
    return clean(raw, build_context(text, offset, prefix_lines=50, suffix_lines=50, path="x.py"))


def test_fim_tokens_and_what_follows_them_are_cut() -> None:
    assert clean_at("x = |\n", "compute()<|endoftext|>junk") == "compute()"
    assert clean_at("x = |\n", "compute()<|file_sep|>other.py\nprint()") == "compute()"
    assert clean_at("x = |\n", "a<fim_middle>b") == "a"
    assert clean_at("x = |\n", "<|fim_pad|>") == ""


def test_code_fences_are_removed() -> None:
    raw = "```python\nreturn a + b\n```\nThis adds the numbers."
    assert clean_at("def add(a, b):\n    |\n", raw) == "return a + b"
    assert clean_at("def add(a, b):\n    |\n", "return a\n```") == "return a"


def test_a_trigger_in_the_middle_of_a_line_gets_one_line() -> None:
    assert clean_at("print(|)\n", '"hello", end="")\nprint("more")') == '"hello", end=""'


def test_the_tail_that_repeats_the_rest_of_the_line_is_dropped() -> None:
    assert clean_at("foo(|)\n", "a, b)") == "a, b"
    assert clean_at('print("|")\n', 'hi")') == "hi"
    # A balanced call before a ")" keeps its own closing bracket.
    assert clean_at("print(|)\n", "f(x)") == "f(x)"
    assert clean_at("x = foo(|, 2)\n", "1, 2)") == "1"


def test_lines_that_repeat_the_code_below_are_dropped() -> None:
    document = "def f(x):\n    |\n    return y\n\n\nprint(f(1))\n"
    assert clean_at(document, "y = x * 2\n    return y\n\n\nprint(f(1))") == "y = x * 2"
    # A suggestion that is only the next line again is nothing.
    assert clean_at("a = 1\n|\nb = 2\n", "b = 2") == ""


def test_a_suggestion_stops_at_the_end_of_the_block() -> None:
    document = 'def fib(n):\n    """Fib."""\n    |\n'
    raw = "if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n\n\ndef main():\n    pass"
    assert clean_at(document, raw) == "if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)"
    # At the end of a line that opens a block: the block's body, not the next definition.
    assert clean_at("def f():|\n", "\n    return 1\n\ndef g():\n    return 2") == "\n    return 1"
    # A closing bracket at the block's level ends it and is kept.
    assert clean_at("function f() {|\n", "\n  return 1;\n}\nfunction g() {}") == "\n  return 1;\n}"


def test_whitespace_only_is_empty() -> None:
    assert clean_at("x = |\n", "   \n\n  ") == ""
    assert clean_at("x = |\n", "") == ""


def test_trailing_whitespace_is_trimmed_but_leading_kept() -> None:
    assert clean_at("def f():|\n", "\n    pass\n\n") == "\n    pass"
