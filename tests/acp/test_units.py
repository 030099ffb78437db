"""The ACP front end's pure parts: prompt rendering, transcript replay, settings, refused
commands, and which lines the transport answers itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from acp.schema import (
    AgentMessageChunk,
    BlobResourceContents,
    EmbeddedResourceContentBlock,
    ImageContentBlock,
    ResourceContentBlock,
    TextContentBlock,
    ToolCallProgress,
    ToolCallStart,
    UserMessageChunk,
)

from agent_acp.commands import refusal
from agent_acp.prompt import EmptyPrompt, read_prompt
from agent_acp.replay import replay
from agent_acp.settings import combine, read_file, settings_path
from agent_acp.transport import _problem
from agent_core.messages import Message, ToolCall

WORKSPACE = Path("/work/project")


def text(value: str) -> TextContentBlock:
    return TextContentBlock(type="text", text=value)


@pytest.mark.parametrize(
    ("fragment", "lines"),
    [("#L3:9", "lines 3-9"), ("#L3-L9", "lines 3-9"), ("#L7", "line 7"), ("#5-6", "lines 5-6"), ("", None)],
)
def test_a_selection_names_its_lines_from_the_uri_fragment(fragment: str, lines: str | None) -> None:
    block = EmbeddedResourceContentBlock(
        type="resource", resource={"uri": f"file:///work/project/a%20b.py{fragment}", "text": "x = 1\n"}
    )
    prompt = read_prompt([text("Explain "), block], WORKSPACE)
    assert prompt.text == "Explain `a b.py`"
    where = f"`a b.py` {lines}" if lines else "`a b.py`"
    assert f"Selected text in {where}:\n```py\nx = 1\n```" in prompt.message


def test_files_outside_the_workspace_and_other_uris_keep_their_names() -> None:
    prompt = read_prompt(
        [
            text("compare"),
            ResourceContentBlock(type="resource_link", uri="file:///etc/hosts", name="hosts"),
            ResourceContentBlock(type="resource_link", uri="https://example.com/spec", name="the spec"),
        ],
        WORKSPACE,
    )
    assert prompt.text == "compare `/etc/hosts` `the spec`"
    assert "Current file: `/etc/hosts`" in prompt.message
    assert "Current file: `https://example.com/spec`" in prompt.message


def test_content_the_agent_cannot_read_is_named_not_dropped() -> None:
    prompt = read_prompt(
        [
            text("look"),
            ImageContentBlock(type="image", data="aGk=", mime_type="image/png"),
            EmbeddedResourceContentBlock(
                type="resource", resource=BlobResourceContents(uri="file:///work/project/logo.png", blob="aGk=")
            ),
        ],
        WORKSPACE,
    )
    assert "(image content was left out: this agent reads text only.)" in prompt.message
    assert "(logo.png is binary content; it was left out.)" in prompt.message


def test_an_empty_prompt_is_refused() -> None:
    with pytest.raises(EmptyPrompt):
        read_prompt([text("   ")], WORKSPACE)


def test_replay_shows_each_message_as_the_live_turn_did() -> None:
    call = ToolCall(id="c1", name="read_file", arguments={"path": "a.py", "start_line": 2, "end_line": 4})
    messages = [
        Message(role="system", content="secret prompt"),
        Message(role="user", content="summary text", kind="summary"),
        Message(role="user", content="question"),
        Message(role="assistant", content="partial", interrupted=True, tool_calls=[call]),
        Message(role="tool", content="interrupted", tool_call_id="c1", name="read_file", is_error=True),
    ]
    updates = list(replay(messages, WORKSPACE))
    assert [type(u) for u in updates] == [
        AgentMessageChunk,
        UserMessageChunk,
        AgentMessageChunk,
        ToolCallStart,
        ToolCallProgress,
    ]
    assert updates[0].content.text.startswith("Summary of the earlier conversation")
    assert updates[2].content.text == "partial\n\n*(interrupted)*"
    assert updates[2].message_id == messages[3].id
    start = updates[3]
    assert start.title == "Read a.py (lines 2-4)" and start.kind == "read"
    assert start.locations[0].path == "/work/project/a.py" and start.locations[0].line == 2
    assert updates[4].status == "failed" and "interrupted" in updates[4].content[0].content.text
    assert all("secret prompt" not in str(u) for u in updates)


def test_settings_meta_wins_key_by_key_and_bad_values_are_named(tmp_path: Path) -> None:
    file = tmp_path / "s.json"
    file.write_text(json.dumps({"model": "a", "approval": {"editFile": "allow", "runCommand": "deny"}}))
    data, problems = read_file(file)
    assert problems == []
    settings = combine(data, {"approval": {"runCommand": "ask"}, "maxTokens": -1})
    assert settings.config.model == "a"
    assert (settings.config.approval.edit_file, settings.config.approval.run_command) == ("allow", "ask")
    assert settings.config.max_tokens == 4096 and settings.problems[0].startswith("maxTokens:")
    assert combine({}, "not an object").problems == ["initialize _meta.agentLsp: expected an object, got str; ignored"]


def test_a_broken_settings_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert read_file(bad)[1][0].startswith(f"settings file {bad}: not valid JSON")
    assert "cannot be read" in read_file(tmp_path / "missing.json")[1][0]
    assert settings_path(None, {"AGENT_LSP_SETTINGS": "/x.json"}) == Path("/x.json")
    assert settings_path("/flag.json", {"AGENT_LSP_SETTINGS": "/x.json"}) == Path("/flag.json")
    assert settings_path(None, {}) is None


@pytest.mark.parametrize(
    ("line", "refused"),
    [
        ("/clear", True),
        ("/session new", True),
        ("/sessions load abc", True),
        ("/SESSION Load x", True),
        ("/session", False),
        ("/session rename x y", False),
        ("/save title", False),
        ("/help", False),
        ("/rewind", False),
        ("/rewind undo", False),
        ("/rewind 2 files", False),
        ("/rewind 2 files --force", False),
        ("/rewind 2", True),
        ("/rewind 2 both", True),
        ("/rewind 2 conversation", True),
    ],
)
def test_only_session_switching_commands_and_conversation_rewinds_are_refused(line: str, refused: bool) -> None:
    assert (refusal(line) is not None) == refused


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ({"jsonrpc": "2.0", "id": 1, "method": "initialize"}, None),
        ({"jsonrpc": "2.0", "method": "session/cancel", "params": {}}, None),
        ({"jsonrpc": "2.0", "id": 3, "result": {}}, None),
        ({"jsonrpc": "2.0", "id": None, "error": {"code": 1, "message": "x"}}, None),
        ([], "batches are not supported"),
        ("text", "expected a JSON object"),
        ({"jsonrpc": "2.0", "id": True, "method": "x"}, "the id must be"),
        ({"jsonrpc": "2.0", "id": [1], "result": {}}, "the id must be"),
        ({"id": 1, "method": "x"}, '"jsonrpc" member'),
        ({"jsonrpc": "2.0", "id": 1, "method": None}, "the method must be a string"),
        ({"jsonrpc": "2.0", "id": 1}, "needs a method"),
        ({"jsonrpc": "2.0"}, "needs a method"),
    ],
)
def test_the_transport_passes_only_json_rpc_on(message: object, problem: str | None) -> None:
    found, _ = _problem(message)
    assert (found is None) if problem is None else (found is not None and problem in found)
