"""run_command never hands the provider API keys to the commands it runs.

A command's output is saved in the session and sent to the provider: ``env`` printing the keys
would send one provider's key to the other (and a hostile script could post them anywhere).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tools.helpers import Tools, allow_all


async def test_provider_key_variables_are_removed_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-secret")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret")
    monkeypatch.setenv("MY_LLM_KEY", "sk-custom-secret")
    monkeypatch.setenv("OTHER_SETTING", "visible")
    tools = Tools(tmp_path, allow_all(api_key_env="MY_LLM_KEY"))
    outcome = await tools.run("run_command", command="env")
    assert not outcome.is_error
    assert "sk-" not in outcome.output
    assert "OTHER_SETTING=visible" in outcome.output and "PAGER=cat" in outcome.output
