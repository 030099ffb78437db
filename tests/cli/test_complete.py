"""``agent-lsp complete FILE:LINE:COL``: a real child process against the fake LLM server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.cli.chat_process import chat_env
from tests.fakes.llm_server import FakeLLM


def run_complete(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lsp_server.cli", "complete", *args],
        cwd=cwd,
        env=chat_env(),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def settings(llm: FakeLLM) -> str:
    return json.dumps({"completion": {"baseUrl": llm.base_url + "/v1", "model": "qwen2.5-coder:1.5b"}})


def test_prints_the_suggestion_at_the_position(fake_llm: FakeLLM, tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text("def add(a, b):\n    \n\nprint(add(1, 2))\n")
    fake_llm.script({"text": "return a + b\n\nprint(add(1, 2))<|endoftext|>"})
    done = run_complete("calc.py:2:5", "--settings", settings(fake_llm), "-v", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "return a + b\n"
    assert "source openai, model qwen2.5-coder:1.5b, endpoint infill, model" in done.stderr
    request = fake_llm.requests[-1]
    assert request["input_prefix"] == "def add(a, b):\n" and request["prompt"] == "    "


def test_positions_past_the_end_are_clamped_and_flags_override_settings(fake_llm: FakeLLM, tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text("x = 1\n")
    fake_llm.missing_routes.add("/infill")
    fake_llm.script({"text": "  # one"})
    done = run_complete(
        "calc.py:1:99", "--base-url", fake_llm.base_url + "/v1", "--model", "starcoder2-3b", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "  # one\n"
    assert fake_llm.requests[-1]["prompt"] == "<fim_prefix>x = 1<fim_suffix>\n<fim_middle>"


def test_no_suggestion_and_bad_arguments_say_why(fake_llm: FakeLLM, tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text("x = 1\n")
    fake_llm.script({"status": 500, "error_message": "model crashed"})
    done = run_complete("calc.py:1:1", "--settings", settings(fake_llm), cwd=tmp_path)
    assert done.returncode == 1 and done.stdout == ""
    assert "no suggestion" in done.stderr and "500" in done.stderr
    bad = run_complete("calc.py:0:1", cwd=tmp_path)
    assert bad.returncode == 2 and "FILE:LINE:COL" in bad.stderr
    missing = run_complete("nope.py:1:1", "--settings", settings(fake_llm), cwd=tmp_path)
    assert missing.returncode == 2 and "cannot read nope.py" in missing.stderr
    off = run_complete("calc.py:1:1", "--settings", '{"completion": {"enabled": false}}', cwd=tmp_path)
    assert off.returncode == 1 and "completion is off" in off.stderr
