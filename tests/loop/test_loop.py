"""AgentLoop with a scripted in-memory provider: rounds, tools, events, saving, errors."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent_core.config import AgentConfig
from agent_core.conversation import NOT_RUN_RESULT, RequestNotSendable, repair
from agent_core.events import StreamFinished, TextDelta, ToolCallReady, ToolCallStarted, UsageReported
from agent_core.messages import Message, Usage
from agent_core.providers.base import ProviderError
from agent_core.truncation import ContextOverflowError
from tests.fakes.doubles import Harness, Hold, ScriptedProvider, call, reply


async def test_text_reply_streams_saves_and_ends(tmp_path: Path) -> None:
    h = Harness(tmp_path, ScriptedProvider(reply("Hello there", usage=(12, 3))))
    ended = await h.turn()
    assert ended.stop_reason == "end_turn" and ended.error is None
    assert ended.usage == Usage(input_tokens=12, output_tokens=3)
    assert [m.role for m in h.messages] == ["user", "assistant"]
    assert h.messages[1].content == "Hello there" and not h.messages[1].interrupted
    assert [m for m, _ in h.saved] == h.messages[1:]
    types = [e.type for e in h.host.events]
    # The loop reports what happens in the turn; its start and end belong to the front end.
    assert "turn_started" not in types and "turn_ended" not in types and types[-1] == "message"
    assert "".join(e.text for e in h.host.of_type("text_delta")) == "Hello there"
    assert h.host.of_type("message")[0].message == h.messages[1]


async def test_tool_round_trip_saves_each_message_at_once(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("alpha\nbeta\n")
    h = Harness(
        tmp_path,
        ScriptedProvider(
            reply("Reading.", [call("c1", path="notes.txt")], usage=(10, 2)),
            reply("It says alpha.", usage=(30, 4)),
        ),
    )
    ended = await h.turn()
    assert ended.stop_reason == "end_turn"
    assert ended.usage == Usage(input_tokens=40, output_tokens=6)  # one total per response, summed
    assert [m.role for m in h.messages] == ["user", "assistant", "tool", "assistant"]
    result = h.messages[2]
    assert result.tool_call_id == "c1" and result.name == "read_file" and not result.is_error
    assert "alpha" in result.content
    # The assistant message and the tool result were saved before the second request was sent.
    assert [sent for _, sent in h.saved] == [1, 1, 2]
    second = h.provider.requests[1].messages
    assert [m.role for m in second] == ["user", "assistant", "tool"]
    assert {spec.name for spec in h.provider.requests[0].tools} == {
        "read_file",
        "list_files",
        "search_text",
        "edit_file",
        "run_command",
    }
    order = [e.type for e in h.host.events if e.type in ("tool_started", "tool_finished", "message")]
    assert order == ["message", "tool_started", "tool_finished", "message", "message"]


async def test_several_calls_run_in_order(tmp_path: Path) -> None:
    for name in "abc":
        (tmp_path / name).write_text(name * 3)
    h = Harness(
        tmp_path,
        ScriptedProvider(reply("", [call("1", path="c"), call("2", path="a"), call("3", path="b")]), reply("done")),
    )
    await h.turn()
    results = [m for m in h.messages if m.role == "tool"]
    assert [m.tool_call_id for m in results] == ["1", "2", "3"]
    assert ["ccc" in results[0].content, "aaa" in results[1].content, "bbb" in results[2].content] == [True] * 3


async def test_tool_errors_are_results_and_the_turn_goes_on(tmp_path: Path) -> None:
    h = Harness(
        tmp_path,
        ScriptedProvider(
            reply("", [call("1", "no_such_tool"), call("2", "read_file", file="x"), call("3", path="../outside")]),
            reply("sorry"),
        ),
    )
    ended = await h.turn()
    assert ended.stop_reason == "end_turn"
    results = [m for m in h.messages if m.role == "tool"]
    assert all(m.is_error for m in results)
    assert "Unknown tool 'no_such_tool'" in results[0].content
    assert "Invalid arguments for read_file" in results[1].content and "path" in results[1].content
    assert "outside the workspace" in results[2].content


async def test_round_limit_ends_turn_with_valid_conversation(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    provider = ScriptedProvider(*[reply("", [call(f"c{i}", path="f")]) for i in range(3)])
    h = Harness(tmp_path, provider, AgentConfig(max_rounds=2))
    ended = await h.turn()
    assert ended.stop_reason == "max_rounds"
    assert len(provider.requests) == 2
    assert repair(h.messages) == h.messages


async def test_max_tokens_stop_reason_is_reported(tmp_path: Path) -> None:
    h = Harness(tmp_path, ScriptedProvider([TextDelta(text="cut sh"), StreamFinished(stop_reason="max_tokens")]))
    ended = await h.turn()
    assert ended.stop_reason == "max_tokens"
    assert h.messages[-1].content == "cut sh"


async def test_provider_error_after_output_keeps_partial_and_answers_ready_calls(tmp_path: Path) -> None:
    failing = [
        TextDelta(text="I will read "),
        ToolCallStarted(index=0, id="c1", name="read_file"),
        ToolCallReady(call=call("c1", path="a")),
        ToolCallStarted(index=1, id="c2", name="edit_file"),
        ProviderError("The connection dropped mid-stream.", kind="truncated", retryable=True, output_started=True),
    ]
    h = Harness(tmp_path, ScriptedProvider(failing))
    ended = await h.turn()
    assert ended.stop_reason == "error" and ended.error == "The connection dropped mid-stream."
    partial, synthetic = h.messages[1], h.messages[2]
    assert partial.interrupted and partial.content == "I will read "
    assert [c.id for c in partial.tool_calls] == ["c1"]  # c2's arguments never completed: dropped
    assert synthetic.tool_call_id == "c1" and synthetic.interrupted and synthetic.content == NOT_RUN_RESULT
    assert [m for m, _ in h.saved] == h.messages[1:]
    assert repair(h.messages) == h.messages
    dropped = [e for e in h.host.of_type("tool_finished") if e.call_id == "c2"]
    assert dropped and dropped[0].is_error


async def test_provider_error_before_output_adds_nothing(tmp_path: Path) -> None:
    error = ProviderError(
        "Authentication failed (401): check OPENAI_API_KEY.", kind="auth", retryable=False, status=401
    )
    h = Harness(tmp_path, ScriptedProvider([error]))
    ended = await h.turn()
    assert ended.stop_reason == "error" and "401" in (ended.error or "")
    assert len(h.messages) == 1 and h.saved == []


@pytest.mark.parametrize("error", [RequestNotSendable("too big"), ContextOverflowError("too big")])
async def test_request_not_sendable_ends_turn_with_its_message(tmp_path: Path, error: Exception) -> None:
    def prepare(messages: list[Message]) -> list[Message]:
        raise error

    provider = ScriptedProvider()
    h = Harness(tmp_path, provider, prepare=prepare)
    ended = await h.turn()
    assert ended.stop_reason == "error" and ended.error == "too big"
    assert provider.requests == []


async def test_prepared_conversation_is_repaired_before_sending(tmp_path: Path) -> None:
    seen: list[list[Message]] = []

    def prepare(messages: list[Message]) -> list[Message]:
        seen.append(list(messages))
        # Truncation that dropped an assistant message but kept its result, and a dangling call.
        orphan = Message(role="tool", tool_call_id="old", content="stale")
        dangling = Message(role="assistant", tool_calls=[call("d1", path="x")])
        return [Message(role="system", content="sys"), orphan, dangling, *messages]

    provider = ScriptedProvider(reply("ok"))
    h = Harness(tmp_path, provider, prepare=prepare)
    await h.turn()
    sent = provider.requests[0].messages
    assert [m.role for m in sent] == ["system", "assistant", "tool", "user"]
    assert sent[2].tool_call_id == "d1" and sent[2].interrupted
    assert seen[0][0].role == "user"  # prepare gets the conversation, and owns the system prompt


async def test_configured_system_prompt_is_sent_without_prepare(tmp_path: Path) -> None:
    provider = ScriptedProvider(reply("ok"))
    h = Harness(tmp_path, provider, AgentConfig(system_prompt="Be terse."))
    await h.turn()
    first = provider.requests[0].messages[0]
    assert first.role == "system" and first.content == "Be terse."
    assert h.messages[0].role == "user"  # never saved into the conversation


async def test_failed_save_ends_turn_with_error_instead_of_crashing(tmp_path: Path) -> None:
    h = Harness(tmp_path, ScriptedProvider(reply("hi")))

    def broken(message: Message) -> None:
        raise OSError("disk full")

    h.loop._on_message = broken
    ended = await h.turn()
    assert ended.stop_reason == "error" and "disk full" in (ended.error or "")
    assert ended not in h.host.events  # returned, never reported


async def test_second_turn_while_running_is_refused(tmp_path: Path) -> None:
    provider = ScriptedProvider([TextDelta(text="x"), Hold()])
    h = Harness(tmp_path, provider)
    first = asyncio.create_task(h.turn())
    await asyncio.wait_for(provider.holding.wait(), 5)
    with pytest.raises(RuntimeError, match="already running"):
        await h.loop.run_turn([Message(role="user", content="again")], "t2")
    assert h.loop.cancel()
    assert (await first).stop_reason == "cancelled"
    assert not h.loop.cancel()  # idle: nothing to cancel


async def test_usage_events_and_stream_events_reach_the_host(tmp_path: Path) -> None:
    h = Harness(
        tmp_path,
        ScriptedProvider(
            [UsageReported(usage=Usage(input_tokens=5)), TextDelta(text="a"), StreamFinished(stop_reason="end_turn")]
        ),
    )
    await h.turn()
    assert [e.type for e in h.host.events] == ["usage", "text_delta", "stream_finished", "message"]
