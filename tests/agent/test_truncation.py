"""Truncation: fault cases 10 (never split a call from its result, twice in a row) and 11 (the
never-dropped part alone does not fit: a clear error, no loop), plus the token accounting."""

from __future__ import annotations

import itertools

import pytest

from agent_core.conversation import RequestNotSendable, repair
from agent_core.messages import Message, ToolCall, Usage
from agent_core.tokens import KnownPrefix, TokenCounter, estimate_message, estimate_text, known_prefix
from agent_core.truncation import ContextOverflowError, atomic_groups, fit, merge_user_runs

SYSTEM = Message(role="system", content="You are a coding agent.")


def user(text: str) -> Message:
    return Message(role="user", content=text)


def assistant(text: str, *calls: ToolCall) -> Message:
    return Message(role="assistant", content=text, tool_calls=list(calls))


def tool_round(n: int, results: int = 1, size: int = 200) -> list[Message]:
    """An assistant message with ``results`` tool calls followed by their results."""
    calls = [ToolCall(id=f"c{n}-{i}", name="read_file", arguments={"path": f"f{n}-{i}.py"}) for i in range(results)]
    out = [assistant(f"reading {n}", *calls)]
    out += [Message(role="tool", tool_call_id=c.id, name=c.name, content="x" * size) for c in calls]
    return out


def assert_valid(messages: list[Message]) -> None:
    """Valid for both providers: repair has nothing to fix, and user/assistant alternate."""
    assert repair(messages) == messages
    turns = [m for m in messages if m.role in ("user", "assistant")]
    for before, after in itertools.pairwise(turns):
        assert not (before.role == after.role == "user"), "two user messages in a row"
    conversation = [m for m in messages if m.role != "system"]
    assert conversation[0].role == "user", "the conversation must start with a user message"


def test_estimates_are_bytes_over_four() -> None:
    assert estimate_text("") == 0
    assert estimate_text("abcd") == 1
    assert estimate_text("abcde") == 2
    assert estimate_text("é" * 4) == 2  # eight UTF-8 bytes
    call = ToolCall(id="a", name="read_file", arguments={"path": "x.py"})
    assert estimate_message(assistant("", call)) > estimate_message(assistant(""))


def test_a_conversation_that_fits_is_sent_as_is() -> None:
    messages = [SYSTEM, user("hi"), assistant("hello"), user("bye")]
    assert fit(messages, context_window=10_000, reserve_tokens=100, min_recent=2) == messages


def test_drops_oldest_groups_keeps_head_and_recent_and_says_so() -> None:
    messages = [SYSTEM, user("the task " * 10)]
    for n in range(10):
        messages += tool_round(n, results=2)
        messages.append(assistant(f"done {n}"))
        messages.append(user(f"next {n}"))
    result = fit(messages, context_window=1200, reserve_tokens=200, min_recent=4)

    assert result[0] == SYSTEM
    omissions = [m for m in result if m.kind == "omission"]
    assert len(omissions) == 1
    # The note is folded into the first user message, whose text is kept intact.
    assert omissions[0].content.startswith(messages[1].content)
    kept_ids = {m.id for m in result}
    dropped = [m for m in messages if m.id not in kept_ids]
    assert f"{len(dropped)} earlier messages were omitted" in omissions[0].content
    # Newest first kept: what was dropped is a contiguous run of the oldest messages.
    dropped_positions = [messages.index(m) for m in dropped]
    assert dropped_positions == list(range(2, 2 + len(dropped)))
    assert result[-4:] == messages[-4:]
    assert sum(estimate_message(m) for m in result) <= 1000
    assert_valid(result)


def test_fault_10_cut_inside_a_tool_group_twice_in_a_row() -> None:
    """Budgets chosen so the natural cut lands between a call and its results, and again after
    the conversation grows: neither request may carry an orphan call or result."""
    messages = [SYSTEM, user("task")]
    for n in range(6):
        messages += tool_round(n, results=3, size=400)
    for budget in range(400, 2000, 37):  # sweep cut points across every position in the groups
        result = fit(messages, context_window=budget + 100, reserve_tokens=100, min_recent=1)
        assert_valid(result)
        for group in atomic_groups(result[2:]):
            if group[0].tool_calls:
                assert {m.tool_call_id for m in group[1:]} == {c.id for c in group[0].tool_calls}
    first = fit(messages, context_window=1300, reserve_tokens=100, min_recent=1)
    messages += tool_round(6, results=3, size=400)
    second = fit(messages, context_window=1300, reserve_tokens=100, min_recent=1)
    assert_valid(first)
    assert_valid(second)
    assert second[-4:] == messages[-4:]  # the whole newest group, call and all three results


def test_min_recent_keeps_whole_groups() -> None:
    messages = [SYSTEM, user("task"), *tool_round(1, results=3, size=10), assistant("ok"), user("more")]
    # min_recent=3 reaches into the tool group: the whole group (call + 3 results) is kept.
    with pytest.raises(ContextOverflowError):
        fit(messages, context_window=60, reserve_tokens=0, min_recent=3)
    result = fit(messages, context_window=10_000, reserve_tokens=0, min_recent=3)
    assert result == messages


def test_fault_11_never_dropped_part_too_big_is_a_clear_error() -> None:
    big = user("word " * 4000)  # about 5000 tokens
    messages = [SYSTEM, user("task"), assistant("ok"), big]
    with pytest.raises(ContextOverflowError) as caught:
        fit(messages, context_window=4000, reserve_tokens=1000, min_recent=1)
    error = caught.value
    assert isinstance(error, RequestNotSendable)
    text = str(error)
    assert "context window 4000" in text and "1000 reserved" in text and "/compact" in text


def test_tool_definitions_count_against_the_budget() -> None:
    messages = [SYSTEM, user("task"), assistant("a" * 400), user("b" * 400)]
    assert fit(messages, context_window=400, reserve_tokens=0, min_recent=1) == messages
    trimmed = fit(messages, context_window=400, reserve_tokens=0, min_recent=1, fixed_tokens=200)
    assert any(m.kind == "omission" for m in trimmed)
    with pytest.raises(ContextOverflowError, match="tool definitions"):
        fit(messages, context_window=400, reserve_tokens=0, min_recent=1, fixed_tokens=350)


def test_provider_usage_raises_the_estimate_but_never_lowers_it() -> None:
    reply = assistant("a" * 400)
    messages = [SYSTEM, user("q" * 400), reply, user("f" * 400)]
    estimated = sum(estimate_message(m) for m in messages[:3])
    reply.usage = Usage(input_tokens=2 * estimated - 100, output_tokens=100)  # code: ~2 bytes/token
    prefix = known_prefix(messages)
    assert prefix == KnownPrefix(count=3, tokens=2 * estimated)
    counter = TokenCounter(messages, prefix)
    assert counter.scale == pytest.approx(2.0)
    assert counter.total() == pytest.approx(2 * sum(estimate_message(m) for m in messages), abs=4)
    # By estimate the conversation fits; by the provider's count it does not.
    window = 550  # estimate ~330 fits; provider count ~650 does not; head + latest + note ~480 does
    assert fit(messages, context_window=window, reserve_tokens=0, min_recent=1) == messages
    trimmed = fit(messages, context_window=window, reserve_tokens=0, min_recent=1, usage=prefix)
    assert any(m.kind == "omission" for m in trimmed) and reply not in trimmed
    # A provider that under-reports (prompt caching) never makes a too-large request look small.
    reply.usage = Usage(input_tokens=10, output_tokens=1)
    low = TokenCounter(messages, known_prefix(messages))
    assert low.scale == 1.0 and low.total() == sum(estimate_message(m) for m in messages)
    # Tool definitions are part of the reported input, not of the messages.
    reply.usage = Usage(input_tokens=2 * estimated + 500, output_tokens=0)
    assert TokenCounter(messages, known_prefix(messages), fixed_tokens=500).scale == pytest.approx(2.0, abs=0.01)


def test_merge_user_runs_keeps_every_text_and_the_special_kind() -> None:
    summary = Message(role="user", content="Summary: we fixed the parser.", kind="summary")
    prompt = user("now the tests")
    merged = merge_user_runs([SYSTEM, summary, prompt])
    assert len(merged) == 2
    assert merged[1].kind == "summary"
    assert merged[1].content == "Summary: we fixed the parser.\n\nnow the tests"
    assert summary.content == "Summary: we fixed the parser."  # inputs are not modified
