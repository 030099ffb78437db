"""``/rewind`` in ``agent-lsp chat``: list the checkpoints, restore a turn, undo the restore."""

from __future__ import annotations

from pathlib import Path

from tests.cli.chat_process import chat_env, openai_args, run_chat
from tests.fakes.llm_server import FakeLLM


def test_rewind_lists_restores_and_undoes(fake_llm: FakeLLM, tmp_path: Path) -> None:
    env = chat_env(OPENAI_API_KEY="sk-test")
    (tmp_path / "notes.txt").write_text("first\n")
    edit = {"id": "e1", "name": "edit_file", "arguments": {"path": "notes.txt", "new_text": "second\n"}}
    run = {"id": "r1", "name": "run_command", "arguments": {"command": "echo made > made.txt"}}
    fake_llm.script({"tool_calls": [edit, run]}, {"text": "changed"}, {"text": "fine"}, {"text": "after the rewind"})
    assert run_chat(*openai_args(fake_llm, tmp_path, "--yes", "change the notes"), env=env).returncode == 0
    assert run_chat(*openai_args(fake_llm, tmp_path, "and chat"), env=env).returncode == 0
    assert (tmp_path / "notes.txt").read_text() == "second\n" and (tmp_path / "made.txt").exists()

    listing = run_chat(*openai_args(fake_llm, tmp_path, "/rewind"), env=env)
    assert listing.returncode == 0, listing.stderr
    assert "1. " in listing.stdout and "change the notes" in listing.stdout and "(2 files)" in listing.stdout
    assert "modified notes.txt  +1 -1" in listing.stdout and "added    made.txt  +1 -0" in listing.stdout
    assert "2. " in listing.stdout and "and chat" in listing.stdout and "(0 files)" in listing.stdout

    restored = run_chat(*openai_args(fake_llm, tmp_path, "/rewind 1"), env=env)
    assert restored.returncode == 0, restored.stderr
    assert "2 file(s) restored" in restored.stdout and "conversation was rewound" in restored.stdout
    assert (tmp_path / "notes.txt").read_text() == "first\n" and not (tmp_path / "made.txt").exists()
    assert len(fake_llm.requests) == 3  # commands never reach the model

    undone = run_chat(*openai_args(fake_llm, tmp_path, "/rewind undo"), env=env)
    assert undone.returncode == 0, undone.stderr
    assert "Undone: 2 file(s) restored" in undone.stdout and "conversation is back" in undone.stdout
    assert (tmp_path / "notes.txt").read_text() == "second\n" and (tmp_path / "made.txt").exists()

    # The conversation continues from where it was.
    assert run_chat(*openai_args(fake_llm, tmp_path, "go on"), env=env).returncode == 0
    users = [m["content"] for m in fake_llm.requests[3]["messages"] if m["role"] == "user"]
    assert users == ["change the notes", "and chat", "go on"]

    bad = run_chat(*openai_args(fake_llm, tmp_path, "/rewind 9"), env=env)
    assert "No checkpoint 9" in bad.stdout + bad.stderr
