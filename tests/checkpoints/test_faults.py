"""Checkpoint faults that need a process or a big tree: kill -9 in the middle of a restore leaves
every file old or new and the session readable; a huge workspace's command snapshot gives up
within its budget, says so, and the command still runs."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from agent_core.agent import Agent
from agent_core.config import AgentConfig
from agent_core.events import Notice
from agent_core.sessions import SessionStore
from tests.checkpoints.scenario import command
from tests.fakes.doubles import RecordingHost, ScriptedProvider, reply

REPO = Path(__file__).resolve().parents[2]
FILES = 400
SIZE = 64 * 1024

CHILD = """
import asyncio, sys
from pathlib import Path
from agent_core.agent import Agent
from agent_core.config import AgentConfig
from tests.fakes.doubles import RecordingHost, ScriptedProvider

async def main() -> None:
    agent = Agent(Path(sys.argv[1]), AgentConfig(), RecordingHost(), provider=ScriptedProvider(), env={})
    agent.restore()
    [checkpoint] = await agent.list_checkpoints()
    print("restoring", flush=True)
    await agent.restore_checkpoint(checkpoint.id, "both")
    print("done", flush=True)

asyncio.run(main())
"""


def old(index: int) -> bytes:
    return bytes([65 + index % 26]) * SIZE


def new(index: int) -> bytes:
    return bytes([97 + index % 26]) * SIZE


async def _rewrite_every_file(tmp_path: Path) -> str:
    """One turn whose command rewrites every file (a, b, c... instead of A, B, C...)."""
    for index in range(FILES):
        (tmp_path / f"f{index:03}.txt").write_bytes(old(index))
    script = "for f in f*.txt; do tr 'A-Z' 'a-z' < $f > $f.tmp && mv $f.tmp $f; done"
    provider = ScriptedProvider(reply("", [command("c1", script)]), reply("done"))
    config = AgentConfig.model_validate({"approval": {"runCommand": "allow"}})
    agent = Agent(tmp_path, config, RecordingHost(), provider=provider, env={})
    agent.restore()
    assert (await agent.submit("lowercase everything")).stop_reason == "end_turn"
    session_id = agent.session.id
    await agent.aclose()
    return session_id


def test_kill_9_during_a_restore_leaves_each_file_old_or_new(tmp_path: Path) -> None:
    session_id = asyncio.run(_rewrite_every_file(tmp_path))
    assert all((tmp_path / f"f{i:03}.txt").read_bytes() == new(i) for i in range(FILES))

    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == b"restoring\n"
    # Kill it as soon as the first file is back (a bounded wait: polling the file, no sleep).
    deadline = time.monotonic() + 30
    first = tmp_path / "f000.txt"
    while first.read_bytes() != old(0) and time.monotonic() < deadline:
        pass
    os.kill(child.pid, signal.SIGKILL)
    child.wait()

    states = []
    for index in range(FILES):
        data = (tmp_path / f"f{index:03}.txt").read_bytes()
        assert data in (old(index), new(index)), f"f{index:03}.txt is neither old nor new"
        states.append(data == old(index))
    assert states[0] and not all(states), "the kill did not land in the middle of the restore"
    with SessionStore(tmp_path).open(session_id) as session:
        assert session.messages[0].content == "lowercase everything"


async def test_a_huge_workspace_snapshot_gives_up_within_its_budget(tmp_path: Path) -> None:
    root = tmp_path / "huge"
    for folder in range(100):
        sub = root / f"d{folder:02}"
        sub.mkdir(parents=True)
        for index in range(1000):
            os.close(os.open(sub / f"{index}.txt", os.O_CREAT | os.O_WRONLY, 0o644))
    provider = ScriptedProvider(reply("", [command("c1", "echo ran > ran.txt")]), reply("done"))
    config = AgentConfig.model_validate({"approval": {"runCommand": "allow"}, "checkpoints": {"scanSeconds": 0.3}})
    host = RecordingHost()
    agent = Agent(root, config, host, provider=provider, env={})
    agent.restore()
    started = time.monotonic()
    assert (await agent.submit("run it")).stop_reason == "end_turn"
    assert time.monotonic() - started < 20
    assert (root / "ran.txt").read_text() == "ran\n"  # the command still ran
    notices = [e.text for e in host.events if isinstance(e, Notice) and "cannot cover" in e.text]
    assert notices and "longer than 0.3 s" in notices[0]
    [checkpoint] = await agent.list_checkpoints()
    assert checkpoint.incomplete is not None and "longer than 0.3 s" in checkpoint.incomplete
    # What was read is kept, so the next snapshot gets further.
    assert len(agent.checkpoints.store.index()) >= 256
    await agent.aclose()

    # The file count bound says so too.
    config = AgentConfig.model_validate({"approval": {"runCommand": "allow"}, "checkpoints": {"scanMaxFiles": 5000}})
    host = RecordingHost()
    provider = ScriptedProvider(reply("", [command("c1", "true")]), reply("done"))
    agent = Agent(root, config, host, provider=provider, env={})
    agent.restore()
    await agent.submit("again")
    assert any(isinstance(e, Notice) and "more than 5000 files" in e.text for e in host.events)
    await agent.aclose()
