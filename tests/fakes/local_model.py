"""Doubles for the embedded model: fake part packages, and a model server played by the fake LLM.

:func:`make_parts` installs small fake part packages on ``sys.path`` like the real part wheels;
each package's ``__init__`` raises when imported, so a test using them also proves that the parts
are located and read without running their code. :class:`FakeLauncher` replaces the start of
llama.cpp's process with a :class:`FakeChild` answering at the fake LLM's address.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import pytest

from agent_core.providers.local_models import MODELS, LocalModel, ModelPart, is_installed
from agent_core.providers.model_server import ModelServerError
from tests.fakes.llm_server import FakeLLM

T = TypeVar("T")


def make_parts(
    root: Path,
    monkeypatch: pytest.MonkeyPatch,
    slices: list[bytes],
    *,
    prefix: str = "fake_model_part",
    in_place: bool = False,
) -> LocalModel:
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
    return LocalModel(
        id="fake",
        name="Fake-Model",
        file_name="fake-model.gguf",
        size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(),
        parts=tuple(parts),
        n_ctx=2048,
        in_place=in_place,
    )


def with_part(model: LocalModel, number: int, **changes: object) -> LocalModel:
    """``model`` with part ``number`` (1-based) changed, e.g. another pinned hash."""
    parts = list(model.parts)
    parts[number - 1] = replace(parts[number - 1], **changes)  # type: ignore[arg-type]
    return replace(model, parts=tuple(parts))


class FakeChild:
    def __init__(self, address: str) -> None:
        self.address = address
        self.running = True
        self.stopped = 0
        #: Set to make the process die once it holds (e.g. when a given request arrived).
        self.dies_when: Callable[[], bool] = lambda: False

    def alive(self) -> bool:
        if self.running and self.dies_when():
            self.running = False
        return self.running

    def exited(self, within: float) -> bool:
        return not self.alive()

    def describe_exit(self) -> str:
        return "the model server process was killed by signal 9" if not self.running else "it is running"

    def stop(self) -> None:
        self.running = False
        self.stopped += 1


class FakeLauncher:
    """Records each start; ``fail`` makes the next starts raise what a real start would."""

    def __init__(self, llm: FakeLLM) -> None:
        self.llm = llm
        self.children: list[FakeChild] = []
        self.params: list[dict[str, Any]] = []
        self.fail: str | None = None

    def __call__(self, params: dict[str, Any], timeout: float, abandoned: Callable[[], bool]) -> FakeChild:
        self.params.append(params)
        if self.fail:
            raise ModelServerError(self.fail)
        child = FakeChild(self.llm.base_url)
        self.children.append(child)
        return child


QWEN = MODELS["qwen2.5-coder-1.5b"]
#: The marks of a test on the default model for real: slow on two cores, needs its part wheels.
REAL_QWEN = [
    pytest.mark.local_model,
    pytest.mark.skipif(
        not is_installed(QWEN),
        reason="the Qwen2.5-Coder-1.5B part wheels or xllamacpp are not "
        "installed (bash scripts/setup.sh installs them)",
    ),
    pytest.mark.timeout(1800),
]


def real_qwen(test: T) -> T:
    """Decorate one test with :data:`REAL_QWEN`."""
    for mark in REAL_QWEN:
        test = mark(test)
    return test
