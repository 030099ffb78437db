"""Shared fixtures: a store on a fresh workspace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_core.config import SessionConfig
from agent_core.sessions import SessionStore


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    return root


@pytest.fixture
def store(workspace: Path) -> Iterator[SessionStore]:
    yield SessionStore(workspace, SessionConfig())
