"""edit_file: exact unique replacement or whole-file write, through approval and the host."""

from __future__ import annotations

from pathlib import Path

from agent_core.config import AgentConfig
from agent_core.host import ProposedEdit
from tests.fakes.doubles import ALLOW_ONCE, RecordingHost, reject
from tests.tools.helpers import Tools, allow_all


async def test_unique_replacement_is_approved_with_a_diff_and_applied(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text("def f():\n    return 1\n")
    host = RecordingHost(decisions=[ALLOW_ONCE])
    tools = Tools(tmp_path, host=host)
    outcome = await tools.run("edit_file", path="app.py", old_text="return 1", new_text="return 2")
    assert not outcome.is_error and outcome.output == "Edited app.py (+1 -1 lines)."
    assert path.read_text() == "def f():\n    return 2\n"
    request = host.permission_requests[0]
    assert request.tool == "edit_file" and request.title == "Edit app.py" and request.turn_id == "turn1"
    assert "--- a/app.py" in request.detail and "-    return 1" in request.detail and "+    return 2" in request.detail
    assert request.edit == ProposedEdit(path.resolve(), "def f():\n    return 1\n", "def f():\n    return 2\n")
    assert host.edits == [(path.resolve(), "def f():\n    return 1\n", "def f():\n    return 2\n")]
    assert tools.started == ["edit_file"]


async def test_missing_or_repeated_old_text_is_refused_without_asking(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("a = 1\na = 1\n")
    tools = Tools(tmp_path)
    missing = await tools.run("edit_file", path="f.txt", old_text="b = 2", new_text="x")
    assert missing.is_error and "old_text was not found in f.txt" in missing.output
    twice = await tools.run("edit_file", path="f.txt", old_text="a = 1", new_text="a = 2")
    assert twice.is_error and "occurs 2 times" in twice.output
    empty = await tools.run("edit_file", path="f.txt", old_text="", new_text="a = 2")
    assert empty.is_error and "old_text is empty" in empty.output
    same = await tools.run("edit_file", path="f.txt", old_text="a = 1\na = 1", new_text="a = 1\na = 1")
    assert same.is_error and "No change" in same.output
    absent = await tools.run("edit_file", path="new.txt", old_text="x", new_text="y")
    assert absent.is_error and "without old_text" in absent.output
    assert tools.host.permission_requests == [] and tools.host.edits == []
    assert (tmp_path / "f.txt").read_text() == "a = 1\na = 1\n"


async def test_whole_file_create_and_overwrite(tmp_path: Path) -> None:
    tools = Tools(tmp_path, allow_all())
    created = await tools.run("edit_file", path="pkg/new.py", new_text="x = 1\n")
    assert created.output == "Created pkg/new.py (+1 -0 lines)."
    assert (tmp_path / "pkg/new.py").read_text() == "x = 1\n"
    assert tools.host.edits[0][1] is None  # original None: the host creates the file
    rewritten = await tools.run("edit_file", path="pkg/new.py", new_text="y = 2\nz = 3\n")
    assert rewritten.output == "Wrote the whole of pkg/new.py (+2 -1 lines)."


async def test_edit_applies_to_the_editor_buffer_text(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("saved\n")
    host = RecordingHost(buffers={path.resolve(): "unsaved\n"})
    outcome = await Tools(tmp_path, allow_all(), host).run(
        "edit_file", path="a.txt", old_text="unsaved", new_text="edited"
    )
    assert not outcome.is_error
    assert host.buffers[path.resolve()] == "edited\n" and path.read_text() == "saved\n"


async def test_crlf_file_matches_old_text_written_with_plain_newlines(tmp_path: Path) -> None:
    path = tmp_path / "win.txt"
    path.write_bytes(b"one\r\ntwo\r\nthree\r\n")
    outcome = await Tools(tmp_path, allow_all()).run("edit_file", path="win.txt", old_text="one\ntwo", new_text="1\n2")
    assert not outcome.is_error
    assert path.read_bytes() == b"1\r\n2\r\nthree\r\n"


async def test_rejection_reason_goes_back_to_the_model(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("old\n")
    host = RecordingHost(decisions=[reject("use a constant instead")])
    tools = Tools(tmp_path, host=host)
    outcome = await tools.run("edit_file", path="f.txt", old_text="old", new_text="new")
    assert outcome.is_error
    assert outcome.output == "Edit f.txt was not done. The user rejected this action: use a constant instead"
    assert host.edits == [] and tools.started == []
    assert (tmp_path / "f.txt").read_text() == "old\n"


async def test_failed_apply_is_reported_with_the_hosts_reason(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("old\n")
    host = RecordingHost(refuse_edits="the buffer changed since it was read")
    outcome = await Tools(tmp_path, allow_all(), host).run("edit_file", path="f.txt", old_text="old", new_text="new")
    assert outcome.is_error and "not applied: the buffer changed since it was read" in outcome.output
    assert (tmp_path / "f.txt").read_text() == "old\n"


async def test_deny_policy_and_private_folders(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("old\n")
    tools = Tools(tmp_path, AgentConfig.model_validate({"approval": {"editFile": "deny"}}))
    denied = await tools.run("edit_file", path="f.txt", old_text="old", new_text="new")
    assert denied.is_error and "approval.editFile = deny" in denied.output
    (tmp_path / ".git").mkdir()
    private = await Tools(tmp_path, allow_all()).run("edit_file", path=".git/config", new_text="x")
    assert private.is_error and "Refused" in private.output
    sessions = await Tools(tmp_path, allow_all()).run("edit_file", path=".agent-lsp/sessions/x.jsonl", new_text="x")
    assert sessions.is_error and "Refused" in sessions.output
