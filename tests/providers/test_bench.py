"""bench/stream_overhead.py runs and reports both baselines and a ratio for each wire format."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_stream_overhead_benchmark_reports_a_ratio(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "stream_overhead.py"), "--tokens", "300"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    for wire in ("openai", "anthropic"):
        assert f"{wire}: 300 tokens" in result.stdout
    assert len(re.findall(r"raw client\s+[\d,]+ tokens/s", result.stdout)) == 2
    assert len(re.findall(r"provider\s+[\d,]+ tokens/s", result.stdout)) == 2
    ratios = [float(r) for r in re.findall(r"ratio provider / raw client: ([\d.]+)", result.stdout)]
    assert len(ratios) == 2 and all(r > 0 for r in ratios)
