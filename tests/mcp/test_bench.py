"""bench/mcp.py runs and reports every figure it promises."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(240)
def test_mcp_benchmark_reports_start_times_and_call_overhead(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "mcp.py"), "--servers", "1", "--calls", "20"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=200,
    )
    assert result.returncode == 0, result.stderr
    for label in (
        "time to first tool list, cold",
        "time to first tool list, warm",
        "tool list, servers running",
        "per call through the agent",
        "per call with the SDK directly",
        "overhead per call",
    ):
        assert re.search(re.escape(label) + r"\s+-?[\d.]+ ms", result.stdout), result.stdout
