"""The scenario of the checkpoint tests: three turns editing two files, and a command that
creates one file and deletes another, run by a real Agent with a scripted provider."""

from __future__ import annotations

from pathlib import Path

from agent_core.agent import Agent
from agent_core.config import AgentConfig
from agent_core.messages import ToolCall
from tests.fakes.doubles import RecordingHost, ScriptedProvider, reply

#: The workspace before the first turn (path -> bytes).
ORIGINAL = {"a.txt": b"alpha\nline two\n", "d.txt": b"delete me\x00binary-ish\n", "keep.txt": b"untouched\n"}


def edit(call_id: str, path: str, text: str) -> ToolCall:
    return ToolCall(id=call_id, name="edit_file", arguments={"path": path, "new_text": text})


def command(call_id: str, line: str) -> ToolCall:
    return ToolCall(id=call_id, name="run_command", arguments={"command": line})


def turns() -> ScriptedProvider:
    return ScriptedProvider(
        reply("", [edit("1a", "a.txt", "alpha one\n"), edit("1b", "b.txt", "bravo\n")]),
        reply("turn one done"),
        reply("", [edit("2a", "a.txt", "alpha two\nmore\n"), command("2c", "printf 'made\\n' > c.txt && rm d.txt")]),
        reply("turn two done"),
        reply("", [edit("3b", "b.txt", "bravo three\n")]),
        reply("turn three done"),
        reply("after the rewind"),
    )


def write_workspace(root: Path) -> None:
    for name, data in ORIGINAL.items():
        (root / name).write_bytes(data)


def files_of(root: Path) -> dict[str, bytes]:
    """Every file of the workspace outside .agent-lsp."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".agent-lsp" not in p.relative_to(root).parts
    }


async def three_turns(root: Path, **settings: object) -> tuple[Agent, RecordingHost]:
    write_workspace(root)
    host = RecordingHost()
    config = AgentConfig.model_validate({"approval": {"editFile": "allow", "runCommand": "allow"}, **settings})
    agent = Agent(root, config, host, provider=turns(), env={})
    agent.restore()
    for prompt in ("first turn", "second turn", "third turn"):
        ended = await agent.submit(prompt)
        assert ended.stop_reason == "end_turn", ended
    return agent, host
