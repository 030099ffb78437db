"""The wire models (lsp_server/wire.py) against the protocol as documented and as the VS Code
client names it, so the three cannot drift apart.

docs/protocol.md writes each object as ``{a, b?, c: {d, e}, f: [Name]}``: a key with ``?`` is
optional (left out when unset; an argument that may be missing), a nested object or list of
objects is checked field by field, and ``SessionInfo`` / ``Message`` refer to their own
definitions in the same document.
"""

from __future__ import annotations

import re
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from lsp_server import methods, wire

REPO = Path(__file__).resolve().parents[2]
PROTOCOL_MD = (REPO / "docs" / "protocol.md").read_text(encoding="utf-8")
PROTOCOL_TS = (REPO / "editors" / "vscode" / "src" / "protocol.ts").read_text(encoding="utf-8")

#: key -> (optional, nested spec or None)
Spec = dict[str, tuple[bool, "Spec | None"]]


# -- reading the document ---------------------------------------------------------------------


def braced(text: str, start: int) -> str:
    """The balanced ``{...}`` that starts at ``text[start]``."""
    depth = 0
    for index in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[start : index + 1]
    raise AssertionError(f"unbalanced braces from {text[start : start + 40]!r}")


def split_top(body: str) -> list[str]:
    """Split on commas that are not inside braces, brackets or quotes."""
    parts, depth, quoted, current = [], 0, False, ""
    for char in body:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "{[":
            depth += 1
        elif not quoted and char in "}]":
            depth -= 1
        if char == "," and depth == 0 and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [part.strip() for part in parts if part.strip()]


def parse_object(text: str) -> Spec:
    """``{a, b?, c: {d}, e: [Name], f: "x"|"y"}`` -> its keys."""
    text = " ".join(text.split())
    assert text.startswith("{") and text.endswith("}"), text
    spec: Spec = {}
    for part in split_top(text[1:-1]):
        key, _, value = part.partition(":")
        key, value = key.strip(), value.strip()
        optional = key.endswith("?")
        spec[key.rstrip("?")] = (optional, nested(value))
    return spec


def nested(value: str) -> Spec | None:
    value = value.strip("[]").strip()
    if value.startswith("{"):
        return parse_object(value)
    if value in NAMED:
        return NAMED[value]
    return None


def definition(name: str) -> Spec:
    """``SessionInfo``: ``{...}`` or ``Message`` (transcript): ``{...}`` (may span lines)."""
    match = re.search(rf"`{name}`[^`]*: `\{{", PROTOCOL_MD)
    assert match, f"docs/protocol.md defines no {name}"
    return parse_object(braced(PROTOCOL_MD, match.end() - 1))


NAMED: dict[str, Spec] = {}
NAMED["SessionInfo"] = definition("SessionInfo")
NAMED["Message"] = definition("Message")
NAMED["CheckpointFile"] = definition("CheckpointFile")
NAMED["Checkpoint"] = definition("Checkpoint")
NAMED["FileDiff"] = definition("FileDiff")


def table_rows(heading: str) -> list[list[str]]:
    """The body rows of the first table under ``heading``, cells split on unescaped pipes."""
    section = PROTOCOL_MD[PROTOCOL_MD.index(heading) :]
    rows = []
    for line in section.splitlines()[1:]:
        if line.startswith("#"):
            break
        if line.startswith("|") and not line.startswith("|---"):
            rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows[1:]  # the header row


def first_object(cell: str) -> Spec:
    cell = cell.replace("\\|", "|")
    return parse_object(braced(cell, cell.index("{")))


def documented_commands() -> dict[str, tuple[Spec, Spec]]:
    return {
        row[0].strip("`"): (first_object(row[1]), first_object(row[2]))
        for row in table_rows("## Commands (`workspace/executeCommand`)")
    }


def documented_notifications() -> dict[str, Spec]:
    return {row[0].strip("`"): first_object(row[1]) for row in table_rows("## Notifications (server to client)")}


# -- comparing with the models ----------------------------------------------------------------


def model_in(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds: ``X``, ``X | None`` or ``list[X]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        found = model_in(argument)
        if found is not None:
            return found
    return None


def is_optional(field: FieldInfo) -> bool:
    return field.exclude_if is not None


def check(model: type[BaseModel], spec: Spec, where: str) -> None:
    fields = {field.alias or name: field for name, field in model.model_fields.items()}
    assert set(fields) == set(spec), f"{where}: the model has {sorted(fields)}, the document {sorted(spec)}"
    for key, (optional, inner) in spec.items():
        field = fields[key]
        assert is_optional(field) == optional, f"{where}.{key}: optional is {optional} in the document"
        if issubclass(model, wire.Arguments | wire.ChatContext):
            assert field.is_required() == (not optional), f"{where}.{key}: required is {not optional}"
        if inner is not None:
            held = model_in(field.annotation)
            assert held is not None, f"{where}.{key}: the document shows an object, the model has none"
            check(held, inner, f"{where}.{key}")


def test_every_command_has_the_documented_argument_and_result() -> None:
    documented = documented_commands()
    assert set(documented) == set(wire.COMMANDS)
    for name, (argument, result) in documented.items():
        arguments_model, result_model = wire.COMMANDS[name]
        check(arguments_model, argument, f"{name} argument")
        check(result_model, result, f"{name} result")


def test_every_notification_has_the_documented_params() -> None:
    documented = documented_notifications()
    assert set(documented) == set(wire.NOTIFICATIONS)
    for method, params in documented.items():
        check(wire.NOTIFICATIONS[method], params, method)


@pytest.mark.parametrize(
    ("pattern", "model"),
    [
        (r"- `context`: `", wire.ChatContext),
        (r"`agent/requestPermission` `", wire.PermissionRequestParams),
        (r"`agent/requestPermission` `\{[^}]*\}` -> `", wire.PermissionAnswer),
        (r"running turn\s+\(`\[", wire.RunningTurn),
    ],
)
def test_the_other_documented_objects(pattern: str, model: type[BaseModel]) -> None:
    match = re.search(pattern, PROTOCOL_MD)
    assert match, pattern
    check(model, parse_object(braced(PROTOCOL_MD, match.end())), model.__name__)


def test_the_vscode_client_uses_the_same_method_names() -> None:
    def constants(name: str) -> set[str]:
        block = re.search(rf"export const {name} = \{{(.*?)\}} as const;", PROTOCOL_TS, re.S)
        assert block, name
        return set(re.findall(r"'([^']+)'", block.group(1)))

    assert constants("Commands") == set(wire.COMMANDS)
    assert constants("Notifications") == set(wire.NOTIFICATIONS)
    assert f"PermissionRequestMethod = '{methods.REQUEST_PERMISSION}'" in PROTOCOL_TS


def test_the_checker_catches_a_drift() -> None:
    """The comparison is not vacuous: a key missing, added or with the wrong optionality fails."""
    good = parse_object("{turnId, stopReason, usage: {inputTokens, outputTokens}, error?}")
    check(wire.TurnEndedParams, good, "turnEnded")
    for drifted in (
        "{turnId, stopReason, usage: {inputTokens, outputTokens}}",
        "{turnId, stopReason, usage: {inputTokens, outputTokens}, error}",
        "{turnId, stopReason, usage: {inputTokens}, error?}",
        "{turnId, stopReason, usage, error?, extra}",
    ):
        with pytest.raises(AssertionError):
            check(wire.TurnEndedParams, parse_object(drifted), "turnEnded")
