"""Checkpoint benchmark: the snapshot around a command against ``git status`` on the same tree.

For generated workspaces of 1k, 10k and 100k files (about 1 KB of source-like text each, 100 per
folder) it measures the workspace snapshot a ``run_command`` checkpoint takes: the first one (every
file read, hashed, compressed and stored once), a following one with nothing changed, and one
after 10 files changed (only their stat differs, so only they are read), with the space the store
then takes. The reference is ``git status --porcelain`` on the same tree, in a throwaway
repository initialised inside the temporary folder after ``git add -A && git commit`` (so git's
index is warm); the snapshot itself never runs git. Then the time to restore 100 files a command
changed, through the Agent as a user would. Run from the repository root:

    python3 bench/checkpoints.py [--sizes 1000,10000,100000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_core.agent import Agent
from agent_core.checkpoints import scan
from agent_core.checkpoints.store import CheckpointStore
from agent_core.config import AgentConfig, CheckpointConfig
from agent_core.messages import ToolCall
from agent_core.tools.workspace import Workspace
from tests.fakes.doubles import RecordingHost, ScriptedProvider, reply

LINE = "    value = compute(item, options)  # a line of ordinary source code\n"
UNBOUNDED = CheckpointConfig(scan_max_files=10_000_000, scan_seconds=3600)


def generate(root: Path, count: int) -> None:
    for index in range(count):
        folder = root / f"pkg{index // 100:04}"
        if index % 100 == 0:
            folder.mkdir(parents=True)
        (folder / f"mod{index % 100:02}.py").write_text(f"# module {index}\n" + LINE * 14)


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def timed_git_status(root: Path) -> float:
    start = time.perf_counter()
    git(root, "status", "--porcelain")
    return time.perf_counter() - start


def timed_snapshot(workspace: Workspace, store: CheckpointStore) -> tuple[float, scan.Snapshot]:
    start = time.perf_counter()
    snapshot = scan.take(workspace, store, UNBOUNDED, threading.Event())
    return time.perf_counter() - start, snapshot


def tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*.py"))


def measure(count: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp) / "ws"
        root.mkdir()
        generate(root, count)
        git(root, "init", "-q")
        start = time.perf_counter()
        git(root, "add", "-A")  # git's own first read: every file hashed and stored once
        git_add = time.perf_counter() - start
        git(root, "-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-qm", "tree")
        timed_git_status(root)  # warm the index and the page cache
        git_time = min(timed_git_status(root) for _ in range(3))

        workspace = Workspace(root)
        store = CheckpointStore(root, 10**12)
        first, _ = timed_snapshot(workspace, store)
        again = min(timed_snapshot(workspace, store)[0] for _ in range(3))
        for index in range(10):
            path = root / f"pkg{index:04}" / "mod00.py"
            path.write_text(path.read_text() + "# changed\n")
        changed, _ = timed_snapshot(workspace, store)
        usage = store.usage()
        return {
            "files": count,
            "tree": tree_bytes(root),
            "git": git_time,
            "git_add": git_add,
            "first": first,
            "again": again,
            "changed": changed,
            "store": usage.bytes,
        }


async def restore_100(count: int = 1000) -> tuple[float, float]:
    """Seconds to restore 100 files one command changed, and the command's snapshot overhead."""
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        generate(root, count)
        change = "for f in pkg0000/mod*.py; do echo '# changed' >> $f; done"
        call = ToolCall(id="c1", name="run_command", arguments={"command": change})
        config = AgentConfig.model_validate({"approval": {"runCommand": "allow"}})
        agent = Agent(root, config, RecordingHost(), provider=ScriptedProvider(reply("", [call]), reply("ok")), env={})
        agent.restore()
        start = time.perf_counter()
        await agent.submit("change 100 files")
        turn = time.perf_counter() - start
        [checkpoint] = await agent.list_checkpoints()
        assert len(checkpoint.files) == 100, len(checkpoint.files)
        start = time.perf_counter()
        result = await agent.restore_checkpoint(checkpoint.id, "files")
        restore = time.perf_counter() - start
        assert len(result.restored) == 100, result
        await agent.aclose()
        return restore, turn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; snapshot = the checkpoint's workspace walk (stat index, blobs zlib level 1)")
    header = (
        f"{'files':>7} | {'tree':>8} | {'git add -A':>10} | {'first snapshot':>14} | {'ratio':>5} | "
        f"{'git status':>10} | {'following':>9} | {'10 changed':>10} | {'ratio':>5} | {'store':>8}"
    )
    print(header)
    print("-" * len(header))
    for size in (int(s) for s in args.sizes.split(",")):
        row = measure(size)
        print(
            f"{size:>7} | {row['tree'] / 1e6:>6.1f}MB | {row['git_add'] * 1e3:>8.0f}ms | {row['first'] * 1e3:>12.0f}ms"
            f" | {row['first'] / row['git_add']:>5.1f} | {row['git'] * 1e3:>8.0f}ms | {row['again'] * 1e3:>7.0f}ms"
            f" | {row['changed'] * 1e3:>8.0f}ms | {row['again'] / row['git']:>5.1f} | {row['store'] / 1e6:>6.1f}MB",
            flush=True,
        )
    print("ratio: first snapshot / git add -A (both store every file once); following / git status (warm index)")
    restore, turn = asyncio.run(restore_100())
    print(f"restore 100 files a command changed (1k-file workspace): {restore * 1e3:.0f} ms")
    print(f"the turn that changed them (command plus both snapshots, first one cold): {turn * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
