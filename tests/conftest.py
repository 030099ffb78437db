"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.llm_server import FakeLLM


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    """A fresh scripted LLM server on 127.0.0.1 (OpenAI at ``base_url + "/v1"``, Anthropic at
    ``base_url``), stopped after the test."""
    with FakeLLM() as llm:
        yield llm
