"""A user's mistake must not put a secret in an error or a log.

Two mistakes: the key itself pasted into ``apiKeyEnv`` (which names the variable holding it), and
credentials in ``baseUrl`` (``http://user:pass@host``). Both used to be echoed by errors (and the
URL by httpx's request log), which end up in the editor, the log file and the session.
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import pytest

from agent_core.config import AgentConfig, ConfigError
from agent_core.errors import ErrorContext, make_error
from agent_core.providers import local_models
from agent_core.providers.openai import OpenAIProvider
from agent_core.providers.select import create_provider
from tests.fakes.llm_server import FakeLLM
from tests.providers.collect import collect

PASSWORD = "s3cret-Passw0rd"


@pytest.fixture(autouse=True)
def no_local_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_models, "server_installed", lambda: False)


@pytest.mark.parametrize(
    "pasted",
    [
        "sk-proj-Abc123def456GHI789jklMNO",  # not a variable name at all
        "AIzaSyD9tSrke72PouQMnMX7a7eZSW0jkFMBWY",  # a valid name, but it looks like a key
        "3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c",  # hex, starts with a digit
    ],
)
@pytest.mark.parametrize("provider", [None, "openai", "anthropic"])
def test_a_key_pasted_into_api_key_env_is_a_config_error_that_hides_it(pasted: str, provider: str | None) -> None:
    settings = {"apiKeyEnv": pasted, **({"provider": provider} if provider else {})}
    with pytest.raises(ConfigError) as raised:
        create_provider(AgentConfig.model_validate(settings), {})
    message = str(raised.value)
    assert pasted not in message and pasted[:8] not in message
    assert message.startswith("apiKeyEnv must be the name of an environment variable")


@pytest.mark.parametrize("name", ["MY_OPENAI_API_KEY_2024", "myKey", "_K"])
def test_variable_names_are_still_fine(name: str) -> None:
    provider = create_provider(AgentConfig.model_validate({"provider": "openai", "apiKeyEnv": name}), {name: "sk-x"})
    assert provider._api_key == "sk-x"  # type: ignore[attr-defined]


def test_credentials_in_the_base_url_never_appear_in_an_error() -> None:
    url = f"http://user:{PASSWORD}@llm.example/v1"
    ctx = ErrorContext(provider=f"the OpenAI-compatible server at {url}", model="m", base_url=url)
    for kind in ("not_found", "connect", "auth"):
        message = make_error(kind, ctx, status=404, detail=f"no route to {url}").message
        assert PASSWORD not in message and "user:" not in message
    assert "http://[redacted]@llm.example/v1" in make_error("not_found", ctx, status=404).message


async def test_credentials_in_the_base_url_are_sent_but_never_logged(
    fake_llm: FakeLLM, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    fake_llm.script({"status": 404, "body": '{"error": {"message": "no such model"}}'})
    url = fake_llm.base_url.replace("http://", f"http://user:{PASSWORD}@") + "/v1"
    provider = create_provider(AgentConfig.model_validate({"baseUrl": url, "model": "m"}), {})
    assert isinstance(provider, OpenAIProvider)
    with caplog.at_level(logging.DEBUG):
        _, error = await collect(provider)
    await provider.aclose()
    assert error is not None and error.kind == "not_found"
    assert PASSWORD not in error.message
    assert caplog.records and not any(PASSWORD in record.getMessage() for record in caplog.records)
    sent = fake_llm.requests[0]["_headers"]["authorization"]
    assert sent == "Basic " + base64.b64encode(f"user:{PASSWORD}".encode()).decode()
