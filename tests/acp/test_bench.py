"""bench/acp.py runs end to end and prints each of its figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_acp_benchmark_prints_every_figure(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "acp.py"), "--runs", "1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr
    for label in (
        "ACP  python -m agent_acp",
        "LSP  python -m lsp_server",
        "ACP  agent_message_chunk",
        "LSP  agent/textDelta",
    ):
        assert re.search(re.escape(label) + r"\s+median\s+[\d.]+ ms\s+max\s+[\d.]+ ms", result.stdout), result.stdout
    assert re.search(r"cancel .*\n\s+ACP\s+median\s+[\d.]+ ms", result.stdout), result.stdout
