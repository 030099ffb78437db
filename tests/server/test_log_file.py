"""``--log-file``: private to the user (0600, also when it existed), never through a link, and
without approval diffs, prompts or tool output unless debug logging (``-v``) was asked for."""

from __future__ import annotations

import asyncio
import stat
import sys
from pathlib import Path

import pytest

from tests.fakes.llm_server import FakeLLM
from tests.server.harness import WAIT, StartServer, fake_settings, server_env, stop

SECRET = "sk-live-0123456789abcdef"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("client_name", ["neovim"])  # a client without agent/requestPermission
async def test_the_log_file_is_private_and_holds_no_approval_detail(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    log_file = tmp_path / "logs" / "agent.log"
    new_text = f"API_KEY = '{SECRET}'\n" + "# padding\n" * 200  # a long diff: shown cut in the popup
    fake_llm.script(
        {
            "tool_calls": [
                {
                    "id": "c1",
                    "name": "edit_file",
                    "arguments": {"path": "config.py", "old_text": "API_KEY = ''\n", "new_text": new_text},
                }
            ]
        },
        {"text": "Done."},
    )
    # Credentials in a base URL (a proxy's user:password) must not reach the log either.
    settings = fake_settings(fake_llm, baseUrl=fake_llm.base_url.replace("//", "//user:hunter2@") + "/v1")
    client = await start_server(client_name, settings=settings, server_args=("--log-file", str(log_file)))
    client.open("config.py", "API_KEY = ''\n")
    turn_id = (await client.command("agent.chat", {"prompt": "set the key"}))["turnId"]
    await client.turn_ended(turn_id)
    assert client.message_requests  # asked through window/showMessageRequest
    assert len(fake_llm.requests) == 2
    await stop(client)

    assert _mode(log_file) == 0o600
    logged = log_file.read_text()
    assert f"turn {turn_id}" in logged  # the file is in use
    assert SECRET not in logged and "padding" not in logged and "hunter2" not in logged


async def _run_server(*args: str) -> tuple[int, str]:
    """Start the server, close its input at once (like an editor that died), return its exit code
    and stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "lsp_server",
        *args,
        env=server_env(),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(b""), WAIT)
    assert process.returncode is not None
    return process.returncode, stderr.decode()


async def test_an_existing_log_file_is_made_private(tmp_path: Path) -> None:
    log_file = tmp_path / "agent.log"
    log_file.write_text("earlier run\n")
    log_file.chmod(0o644)
    code, _ = await _run_server("--log-file", str(log_file))
    assert code == 0
    assert _mode(log_file) == 0o600
    assert log_file.read_text().startswith("earlier run\n")  # appended to, not replaced


@pytest.mark.parametrize("kind", ["link", "fifo"])
async def test_a_log_file_that_is_a_link_or_not_a_file_is_refused(tmp_path: Path, kind: str) -> None:
    log_file = tmp_path / "agent.log"
    target = tmp_path / "elsewhere.txt"
    target.write_text("not yours\n")
    target.chmod(0o644)
    if kind == "link":
        log_file.symlink_to(target)
    else:
        import os

        os.mkfifo(log_file)
    code, stderr = await _run_server("--log-file", str(log_file))
    assert code == 2
    assert str(log_file) in stderr and ("symbolic link" in stderr or "not a regular file" in stderr)
    assert target.read_text() == "not yours\n" and _mode(target) == 0o644
