"""bench/server.py runs end to end and prints each figure as a ratio against its reference."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_server_benchmark_prints_every_ratio(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "server.py"), "--rounds", "1", "--tokens", "300"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(r"empty pygls server\s+[\d.]+ ms", out), out
    for label in ("empty workspace", "1,000 messages"):
        assert re.search(rf"agent-lsp, {label}\s+[\d.]+ ms\s+[\d.]+x the reference \(target 1.10x\)", out), out
    assert "(1000 messages sent in the 1,000-message session's agent/sessionRestored)" in out
    assert re.search(r"idle RSS after initialized: agent-lsp [\d.]+ MB, empty pygls [\d.]+ MB: [\d.]+x", out), out
    assert re.search(r"client via the server\s+[\d,]+ tokens/s\s+\([\d.]+x the raw client, target 0.80x\)", out), out
