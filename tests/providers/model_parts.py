"""Small fake model-part packages, installed on ``sys.path`` like the real part wheels.

Each package's ``__init__`` raises when imported, so a test using them also proves that the
parts are located and read without running their code.
"""

from __future__ import annotations

import hashlib
import importlib
from dataclasses import replace
from pathlib import Path

import pytest

from agent_core.providers.local_models import LocalModel, ModelPart


def make_parts(root: Path, monkeypatch: pytest.MonkeyPatch, slices: list[bytes], *,
               prefix: str = "fake_model_part", in_place: bool = False) -> LocalModel:
    """Packages ``<prefix>1..N`` under ``root`` holding ``slices``, and the model they make up."""
    parts = []
    for number, data in enumerate(slices, start=1):
        package = root / f"{prefix}{number}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("raise RuntimeError('a model part package was imported')\n")
        data_file = f"data/part{number:02d}.bin"
        (package / data_file).write_bytes(data)
        parts.append(ModelPart(package.name, "1.0", data_file, len(data), hashlib.sha256(data).hexdigest()))
    monkeypatch.syspath_prepend(str(root))
    importlib.invalidate_caches()
    whole = b"".join(slices)
    return LocalModel(id="fake", name="Fake-Model", file_name="fake-model.gguf", size=len(whole),
                      sha256=hashlib.sha256(whole).hexdigest(), parts=tuple(parts), n_ctx=2048,
                      in_place=in_place)


def with_part(model: LocalModel, number: int, **changes: object) -> LocalModel:
    """``model`` with part ``number`` (1-based) changed, e.g. another pinned hash."""
    parts = list(model.parts)
    parts[number - 1] = replace(parts[number - 1], **changes)  # type: ignore[arg-type]
    return replace(model, parts=tuple(parts))
