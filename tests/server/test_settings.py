"""Settings parsing: every client shape accepted, each bad field named, good fields kept."""

from __future__ import annotations

import pytest

from agent_core.config import AgentConfig
from lsp_server.settings import parse_settings


@pytest.mark.parametrize(
    "raw",
    [
        {"model": "m1", "retry": {"maxAttempts": 5}},  # Neovim: a plain dict
        {"agent": {"model": "m1", "retry": {"maxAttempts": 5}}},  # VS Code: wrapped in the section
        [{"model": "m1", "retry": {"maxAttempts": 5}}],  # workspace/configuration answer
        [{"agent": {"model": "m1", "retry": {"max_attempts": 5}}}],  # snake_case works too
    ],
)
def test_every_client_shape_gives_the_same_config(raw: object) -> None:
    parsed = parse_settings(raw)
    assert parsed.problems == []
    assert parsed.given
    assert parsed.config.model == "m1"
    assert parsed.config.retry.max_attempts == 5


@pytest.mark.parametrize("raw", [None, [], {"agent": None}])
def test_no_settings_means_defaults_and_not_given(raw: object) -> None:
    parsed = parse_settings(raw)
    assert parsed.config == AgentConfig()
    assert parsed.problems == []
    assert not parsed.given


def test_bad_fields_are_named_dropped_and_the_rest_kept() -> None:
    parsed = parse_settings(
        {
            "model": "kept",
            "maxTokens": "lots",
            "retry": {"maxAttempts": 0, "initialDelay": 0.01},
            "approval": {"editFile": "maybe", "runCommand": "deny"},
            "colour": "blue",
        }
    )
    config = parsed.config
    assert config.model == "kept"
    assert config.max_tokens == AgentConfig().max_tokens
    assert config.retry.max_attempts == AgentConfig().retry.max_attempts
    assert config.retry.initial_delay == 0.01
    assert config.approval.edit_file == "ask"
    assert config.approval.run_command == "deny"
    joined = "\n".join(parsed.problems)
    for name in ("maxTokens", "retry.maxAttempts", "approval.editFile", "colour"):
        assert name in joined
    assert len(parsed.problems) == 4
    assert "unknown setting" in next(p for p in parsed.problems if p.startswith("colour"))


def test_a_section_of_the_wrong_type_is_dropped_whole() -> None:
    parsed = parse_settings({"retry": 5, "truncation": {"contextWindow": -1}})
    assert parsed.config.retry == AgentConfig().retry
    assert parsed.config.truncation.context_window is None
    assert [p.split(":")[0] for p in parsed.problems] == ["retry", "truncation.contextWindow"]


def test_settings_that_are_not_an_object_are_reported() -> None:
    parsed = parse_settings("provider=openai")
    assert parsed.config == AgentConfig()
    assert parsed.problems and "expected an object" in parsed.problems[0]


def test_input_is_not_mutated_and_long_values_are_cut() -> None:
    raw = {"retry": {"maxAttempts": "x" * 500}}
    parse_settings(raw)
    assert raw == {"retry": {"maxAttempts": "x" * 500}}
    problem = parse_settings(raw).problems[0]
    assert len(problem) < 200


def test_null_means_not_set() -> None:
    parsed = parse_settings(
        {"model": None, "maxTokens": None, "retry": {"maxAttempts": None, "maxDelay": 2}, "truncation": None}
    )
    assert parsed.problems == []
    assert parsed.config.max_tokens == AgentConfig().max_tokens
    assert parsed.config.retry.max_delay == 2 and parsed.config.retry.max_attempts == AgentConfig().retry.max_attempts
