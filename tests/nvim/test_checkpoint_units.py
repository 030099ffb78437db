"""`:AgentRewind` and the chat's checkpoint marks in a real Neovim, with the server scripted.

What the end-to-end test (test_checkpoints_end_to_end.py) cannot reach cheaply: the escaping of
hostile prompts, paths and diffs, the picker rows, the conflict question and its two answers, a
command that fails, and the marks on restored and streamed turns. The Lua each test runs is in
tests/nvim/lua/checkpoint_units.lua.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.nvim.harness import Editor, wait_until
from tests.nvim.lua_calls import call

pytestmark = pytest.mark.nvim

CHECKPOINTS = [
    {
        "id": "u1",
        "turnId": None,
        "time": 1_700_000_000,
        "prompt": "fix add\nand more",
        "files": [{"path": "app.py", "change": "modified", "added": 2, "removed": 1, "conflict": False}],
        "conflicts": False,
        "bytes": 40,
    },
    {
        "id": "u2",
        "turnId": "t2",
        "time": 1_700_000_100,
        "prompt": "evil \u202eexe.txt\x1b[2J",
        "files": [
            {"path": "app.py", "change": "modified", "added": 3, "removed": 0, "conflict": True},
            {"path": "new.py", "change": "added", "added": 4, "removed": 0, "conflict": False},
        ],
        "conflicts": True,
        "bytes": 80,
    },
]

DIFF = {
    "files": [
        {
            "path": "app\u202e.py",
            "before": "a\n",
            "current": "b\n",
            "diff": "--- app.py\n+++ app.py\n@@ -1 +1 @@\n-b\x1b[31m\n+a\n",
            "binary": False,
        },
        {"path": "logo.png", "before": None, "current": None, "diff": "binary files differ", "binary": True},
    ]
}


def hm(t: float) -> str:
    return time.strftime("%H:%M", time.localtime(t))


def test_hostile_text_is_escaped_like_the_server_does(editor: Editor) -> None:
    shown = call(editor, "checkpoint_units.visible", "a\x1bb\u202ec\r\nd\u200be\U000e0041\t\xe9\U0001f600")
    assert shown["one_line"] == "a\\x1bb\\u202ec\\r\\nd\\u200be\\U000e0041\t\xe9\U0001f600"
    assert shown["multiline"] == "a\\x1bb\\u202ec\nd\\u200be\\U000e0041\t\xe9\U0001f600"
    # A byte that is not UTF-8 is shown, not dropped.
    raw = editor.lua('return require("agent_lsp.visible").one_line("x\\255y")')
    assert raw == "x\\xffy"


def test_picker_rows_are_one_line_and_escaped(editor: Editor) -> None:
    assert call(editor, "checkpoint_units.format", CHECKPOINTS[0]) == f"fix add… · 1 file · +2 -1 · {hm(1_700_000_000)}"
    assert (
        call(editor, "checkpoint_units.format", CHECKPOINTS[1])
        == f"evil \\u202eexe.txt\\x1b[2J · 2 files · +7 -0 · {hm(1_700_000_100)} · conflicts"
    )
    no_files = {"id": "u3", "prompt": "", "files": [], "conflicts": False}
    assert call(editor, "checkpoint_units.format", no_files) == "(empty prompt) · 0 files"


def test_chat_marks_the_turns_that_have_a_checkpoint(editor: Editor) -> None:
    checkpoints = [
        {"id": "u1", "turnId": None, "files": [{"path": "a.py"}, {"path": "b.py"}]},
        {"id": "u2", "turnId": None, "files": []},
        {"id": "u3", "turnId": "t9", "files": [{"path": "a.py"}]},
    ]
    result = call(editor, "checkpoint_units.marks", checkpoints)
    lines = result["lines"]
    you_rows = [i for i, line in enumerate(lines) if line == "## You"]
    # Restored u1 (2 files), not u2 (no files), and the turn sent from here (t9), never the draft.
    assert result["count"] == 2
    assert result["marks"] == [
        {"row": you_rows[0], "text": "⟲ checkpoint: 2 files"},
        {"row": you_rows[2], "text": "⟲ checkpoint: 1 file"},
    ]
    assert lines[you_rows[2] + 1] == "third prompt"


def run_rewind(editor: Editor, answers: dict[str, list[Any]], picks: list[Any], args: str = "") -> dict[str, Any]:
    call(editor, "checkpoint_units.script", answers, picks)
    editor.nvim.command(f"AgentRewind {args}".strip())
    return wait_until(
        lambda: (lambda s: s if any(n["msg"].startswith("agent-lsp") for n in s["notes"]) else None)(
            call(editor, "checkpoint_units.state")
        ),
        10,
        "the rewind to finish",
    )


def test_rewind_previews_the_diff_asks_the_mode_and_skips_conflicts(editor: Editor) -> None:
    answers: dict[str, list[Any]] = {
        "agent.checkpoint.list": [{"checkpoints": CHECKPOINTS}],
        "agent.checkpoint.diff": [DIFF],
        "agent.checkpoint.restore": [
            {"restored": [], "conflicts": ["app.py"], "skipped": [], "conversation": False},
            {
                "restored": ["new.py"],
                "conflicts": [],
                "skipped": [{"path": "app.py", "reason": "changed since the agent wrote it"}],
                "conversation": True,
            },
        ],
    }
    state = run_rewind(editor, answers, ["evil", "Both", "Skip"])
    calls = state["calls"]
    assert [c["command"] for c in calls] == [
        "agent.checkpoint.list",
        "agent.checkpoint.diff",
        "agent.checkpoint.restore",
        "agent.checkpoint.restore",
    ]
    assert calls[1]["argument"] == {"id": "u2"}
    assert calls[2]["argument"] == {"id": "u2", "mode": "both"}
    assert calls[3]["argument"] == {"id": "u2", "mode": "both", "skipConflicts": True}
    asked = state["asked"]
    # Newest first.
    assert asked[0]["items"][0].startswith("evil \\u202eexe.txt")
    assert asked[0]["items"][1].startswith("fix add…")
    assert asked[1]["items"] == ["Both: files and conversation", "Files only", "Conversation only", "Cancel"]
    assert asked[2]["items"] == ["Overwrite them", "Skip those files", "Cancel"]
    assert "app.py" in asked[2]["prompt"]
    preview = editor.lua("return _G.preview")
    assert preview["filetype"] == "diff" and preview["modifiable"] is False and preview["tabs"] == 2
    assert preview["lines"] == [
        "--- app.py",
        "+++ app.py",
        "@@ -1 +1 @@",
        "-b\\x1b[31m",
        "+a",
        "# logo.png: binary file (binary files differ)",
    ]
    assert state["tabs"] == 1  # the preview is closed once the mode is chosen
    assert state["notes"][-1]["msg"] == (
        "agent-lsp: restored 1 file: new.py; the conversation went back; "
        "skipped app.py (changed since the agent wrote it)"
    )


def test_rewind_overwrites_conflicts_when_told_to(editor: Editor) -> None:
    answers: dict[str, list[Any]] = {
        "agent.checkpoint.list": [{"checkpoints": CHECKPOINTS}],
        "agent.checkpoint.diff": [DIFF],
        "agent.checkpoint.restore": [
            {"restored": [], "conflicts": ["app.py"], "skipped": [], "conversation": False},
            {"restored": ["app.py", "new.py"], "conflicts": [], "skipped": [], "conversation": False},
        ],
    }
    state = run_rewind(editor, answers, ["evil", "Files only", "Overwrite"])
    assert state["calls"][-1]["argument"] == {"id": "u2", "mode": "files", "force": True}
    assert state["notes"][-1]["msg"] == "agent-lsp: restored 2 files: app.py, new.py"


def test_rewind_cancelled_at_the_mode_restores_nothing(editor: Editor) -> None:
    answers = {"agent.checkpoint.list": [{"checkpoints": CHECKPOINTS}], "agent.checkpoint.diff": [DIFF]}
    call(editor, "checkpoint_units.script", answers, ["fix add", "Cancel"])
    editor.nvim.command("AgentRewind")
    wait_until(lambda: editor.lua("return #vim.api.nvim_list_tabpages() == 1 and _G.preview ~= nil"), 10, "the cancel")
    assert [c["command"] for c in editor.lua("return _G.calls")] == ["agent.checkpoint.list", "agent.checkpoint.diff"]


def test_a_turn_without_file_changes_offers_only_the_conversation(editor: Editor) -> None:
    answers: dict[str, list[Any]] = {
        "agent.checkpoint.list": [{"checkpoints": CHECKPOINTS[:1]}],
        "agent.checkpoint.diff": [{"files": []}],
        "agent.checkpoint.restore": [{"restored": [], "conflicts": [], "skipped": [], "conversation": True}],
    }
    state = run_rewind(editor, answers, ["fix add", "Conversation"])
    assert state["asked"][1]["items"] == ["Conversation only", "Cancel"]
    assert editor.lua("return _G.preview.lines") == ["# No file would change: only the conversation can be rewound."]
    assert state["calls"][-1]["argument"] == {"id": "u1", "mode": "conversation"}
    assert state["notes"][-1]["msg"] == "agent-lsp: the conversation went back"


def test_a_refused_restore_is_shown(editor: Editor) -> None:
    answers: dict[str, list[Any]] = {
        "agent.checkpoint.list": [{"checkpoints": CHECKPOINTS}],
        "agent.checkpoint.diff": [DIFF],
        "agent.checkpoint.restore": ["cancel the running turn first"],
    }
    state = run_rewind(editor, answers, ["evil", "Both"])
    note = state["notes"][-1]
    assert note["msg"] == "agent-lsp: agent.checkpoint.restore failed: cancel the running turn first"
    assert note["level"] == 4


def test_rewind_undo_and_an_empty_list(editor: Editor) -> None:
    answers: dict[str, list[Any]] = {
        "agent.checkpoint.undo": [{"restored": ["app.py"], "conflicts": [], "skipped": [], "conversation": True}]
    }
    state = run_rewind(editor, answers, [], "undo")
    assert [c["command"] for c in state["calls"]] == ["agent.checkpoint.undo"]
    assert state["notes"][-1]["msg"] == "agent-lsp: restored 1 file: app.py; the conversation went back"
    state = run_rewind(editor, {"agent.checkpoint.list": [{"checkpoints": []}]}, [])
    assert state["notes"][-1]["msg"] == "agent-lsp: no turn to rewind in this session yet"
    editor.nvim.command("AgentRewind everything")
    assert 'not "everything"' in editor.notes()[-1]["msg"]
