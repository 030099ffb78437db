"""Unit tests of the LSP-side helpers: positions in client units, permission answers, code actions."""

from __future__ import annotations

from collections import namedtuple

import pytest
from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from agent_core.host import Decision
from lsp_server.code_actions import code_actions, fix_range
from lsp_server.documents import clamp_range, end_position, full_range, offset_at, position_at
from lsp_server.permissions import parse_answer

UTF16 = PositionCodec(types.PositionEncodingKind.Utf16)
UTF8 = PositionCodec(types.PositionEncodingKind.Utf8)


def pos(line: int, character: int) -> types.Position:
    return types.Position(line=line, character=character)


def test_offsets_count_client_units() -> None:
    text = "a😀b\nxyz"
    assert offset_at(text, pos(0, 3), UTF16) == 2  # the emoji is 2 UTF-16 units, 1 Python char
    assert offset_at(text, pos(0, 5), UTF8) == 2  # ... and 4 UTF-8 bytes
    assert position_at(text, 2, UTF16) == pos(0, 3)
    assert end_position(text, UTF16) == pos(1, 3)
    assert full_range("a😀\n", UTF16) == types.Range(start=pos(0, 0), end=pos(1, 0))


def test_positions_past_the_end_are_clamped() -> None:
    text = "ab\r\ncd"
    assert offset_at(text, pos(0, 99), UTF16) == 2  # before the \r of a CRLF line end
    assert offset_at(text, pos(9, 0), UTF16) == len(text)
    clamped = clamp_range(text, types.Range(start=pos(1, 1), end=pos(5, 0)), UTF16)
    assert clamped == types.Range(start=pos(1, 1), end=pos(1, 2))


@pytest.mark.parametrize(
    ("answer", "decision", "reason"),
    [
        ({"decision": "allow_once"}, Decision.ALLOW_ONCE, None),
        ({"decision": "allow_session", "reason": "ignored"}, Decision.ALLOW_SESSION, None),
        ({"decision": "reject", "reason": "not that file"}, Decision.REJECT, "not that file"),
        (namedtuple("Object", "decision")("allow_once"), Decision.ALLOW_ONCE, None),
        ({"decision": "yes please"}, Decision.REJECT, "the editor answered an unknown decision 'yes please'"),
        (None, Decision.REJECT, "the editor gave no answer"),
    ],
)
def test_permission_answers(answer: object, decision: Decision, reason: str | None) -> None:
    result = parse_answer(answer)
    assert result.decision is decision and result.reason == reason


def test_fix_range_covers_whole_lines_of_every_diagnostic() -> None:
    diagnostic = types.Diagnostic(range=types.Range(start=pos(4, 2), end=pos(6, 1)), message="bad")
    assert fix_range(types.Range(start=pos(5, 0), end=pos(5, 0)), [diagnostic]) == types.Range(
        start=pos(4, 0), end=pos(7, 0)
    )


def test_code_actions_respect_only() -> None:
    diagnostic = types.Diagnostic(range=types.Range(start=pos(0, 0), end=pos(0, 1)), message="bad")

    def titles(only: list[types.CodeActionKind] | None, diagnostics: list[types.Diagnostic]) -> list[str]:
        params = types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri="file:///a.py"),
            range=types.Range(start=pos(0, 0), end=pos(0, 0)),
            context=types.CodeActionContext(diagnostics=diagnostics, only=only),
        )
        return [a.title for a in code_actions(params)]

    assert titles(None, [diagnostic]) == ["Fix with agent", "Edit with agent"]
    assert titles(None, []) == ["Edit with agent"]
    assert titles([types.CodeActionKind.QuickFix], [diagnostic]) == ["Fix with agent"]
    assert titles([types.CodeActionKind.Refactor], [diagnostic]) == ["Edit with agent"]
    assert titles([types.CodeActionKind.Source], [diagnostic]) == []


def _naive_offset(text: str, line: int, character: int) -> int:
    """The reference: split everything (what offset_at did before it counted in blocks)."""
    lines = text.split("\n")
    if line >= len(lines):
        return len(text)
    start = sum(len(earlier) + 1 for earlier in lines[:line])
    return start + min(character, len(lines[line]))


@pytest.mark.parametrize("size", [0, 1, 5, 70_000])
def test_offsets_and_positions_agree_with_splitting_the_whole_text(size: int) -> None:
    """Line starts are counted a block at a time; the answers are those of a plain split, also
    across block boundaries, at the last line and past it."""
    codec = PositionCodec(types.PositionEncodingKind.Utf32)
    text = "".join(f"line {i}{'x' * (i % 13)}\n" for i in range(size))
    for line in sorted({0, 1, size // 3, size // 2, size - 1, size, size + 1, 6_000, 6_001}):
        for character in (0, 3, 99):
            if line < 0:
                continue
            offset = offset_at(text, types.Position(line=line, character=character), codec)
            assert offset == _naive_offset(text, line, character), (line, character)
            before = text[:offset]
            assert position_at(text, offset, codec) == types.Position(
                line=before.count("\n"), character=len(before) - before.rfind("\n") - 1
            )
