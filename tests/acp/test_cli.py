"""``agent-lsp acp`` on the command line: its help says where settings come from, the log file is
private and never written through a link, and end of input ends the process cleanly."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from tests.acp.harness import AGENT, agent_env


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AGENT), "acp", *args],
        cwd=cwd,
        env=agent_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_help_says_where_settings_come_from(tmp_path: Path) -> None:
    shown = run("--help", cwd=tmp_path)
    assert shown.returncode == 0
    for words in (
        "--settings FILE",
        "AGENT_LSP_SETTINGS",
        "_meta.agentLsp",
        "OPENAI_API_KEY",
        "Nothing is read from the workspace",
        "agent_servers",
    ):
        assert words in shown.stdout, words


def test_the_log_file_is_private_and_never_a_link(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "acp.log"
    ended = run("--log-file", str(log), "-v", cwd=tmp_path)
    assert ended.returncode == 0 and ended.stdout == "", "end of input ends it; stdout carries only JSON-RPC"
    assert stat.S_IMODE(os.stat(log).st_mode) == 0o600
    assert "end of input" in log.read_text()

    target = tmp_path / "elsewhere.txt"
    target.write_text("")
    link = tmp_path / "link.log"
    link.symlink_to(target)
    refused = run("--log-file", str(link), cwd=tmp_path)
    assert refused.returncode == 2 and "symbolic link" in refused.stderr
    assert target.read_text() == ""
