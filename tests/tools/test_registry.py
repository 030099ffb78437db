"""ToolRegistry: the specs offered to the model, and errors that never escape as exceptions."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_core.config import AgentConfig
from agent_core.messages import ToolCall
from agent_core.providers.tool_call_assembly import INVALID_ARGUMENTS_KEY
from agent_core.tools import NOTE_ROOM
from agent_core.tools.files import ReadFile
from tests.tools.helpers import Tools


def test_specs_offer_five_tools_with_plain_schemas(tmp_path: Path) -> None:
    specs = {spec.name: spec for spec in Tools(tmp_path).registry.specs()}
    assert list(specs) == ["read_file", "list_files", "search_text", "edit_file", "run_command"]
    read = specs["read_file"].parameters
    assert read["required"] == ["path"] and read["additionalProperties"] is False
    assert read["properties"]["start_line"] == {
        "type": "integer",
        "minimum": 1,
        "description": read["properties"]["start_line"]["description"],
    }
    for spec in specs.values():
        assert spec.description
        text = str(spec.parameters)
        assert "'title'" not in text and "anyOf" not in text and "'null'" not in text


async def test_arguments_are_validated_with_every_problem_listed(tmp_path: Path) -> None:
    outcome = await Tools(tmp_path).run("read_file", start_line="first", colour="red")
    assert outcome.is_error
    for part in ["Invalid arguments for read_file", "path: Field required", "start_line:", "colour: Extra inputs"]:
        assert part in outcome.output


async def test_arguments_that_were_not_json_are_explained(tmp_path: Path) -> None:
    # What the providers hand over when the model's argument JSON did not parse.
    call = ToolCall(id="c1", name="edit_file", arguments={INVALID_ARGUMENTS_KEY: '{"path": "a.py", new_text: oops'})
    outcome = await Tools(tmp_path).registry.run(call, "t1")
    assert outcome.is_error
    assert outcome.output.startswith('The arguments for edit_file were not a valid JSON object: \'{"path"')
    assert "path, new_text, old_text" in outcome.output


async def test_a_crash_inside_a_tool_becomes_an_error_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def explode(self: ReadFile, args: object, ctx: object) -> None:
        raise OSError("device not ready")

    monkeypatch.setattr(ReadFile, "run", explode)
    outcome = await Tools(tmp_path).run("read_file", path="x")
    assert outcome.is_error and outcome.output == "read_file failed: OSError: device not ready"


async def test_output_has_a_hard_bound(tmp_path: Path) -> None:
    (tmp_path / "wide.txt").write_text("y" * 50_000)  # one line wider than the cap
    outcome = await Tools(tmp_path, AgentConfig(output_cap=1000)).run("read_file", path="wide.txt")
    assert len(outcome.output) <= 1000 + NOTE_ROOM + 100
    assert "characters of output omitted" in outcome.output
