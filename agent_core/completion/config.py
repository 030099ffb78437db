"""The ``completion.*`` settings: ghost-text completions, separate from the chat model.

Users run a small local model for completion and a big remote one for chat, so the completion
source, model, URL and key variable are their own settings; unset ones fall back to the chat
settings only where that is the same kind of server (see :mod:`agent_core.completion.select`).
The defaults are sized for a CPU: short windows, a small ring of extra chunks, a time budget.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

#: ``auto``: ``baseUrl`` set -> ``openai``; else the embedded model when installed; else off.
SourceName = Literal["auto", "local", "openai", "anthropic"]
#: How an OpenAI-compatible server is asked: ``auto`` tries llama.cpp's ``/infill``, then
#: ``/v1/completions`` with the model family's FIM tokens, then a chat prompt.
EndpointName = Literal["auto", "infill", "completions", "chat"]
#: The FIM token families of :mod:`agent_core.completion.fim` (None: from the model name).
FamilyName = Literal["qwen", "deepseek", "starcoder", "codestral"]


class CompletionConfig(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    #: Answer ``textDocument/inlineCompletion`` at all (clients also enable their ghost text by it).
    enabled: bool = True
    source: SourceName = "auto"
    #: Model name for ``openai``/``anthropic`` (default: the chat model of the same provider).
    model: str | None = None
    #: An OpenAI-compatible server for completions (llama.cpp, Ollama, vLLM, ...).
    base_url: str | None = None
    #: Name of the environment variable holding the completion server's key.
    api_key_env: str | None = None
    endpoint: EndpointName = "auto"
    #: FIM tokens to use with ``/v1/completions`` when the model name does not tell.
    family: FamilyName | None = None
    #: Lines before the cursor's line sent as the prefix window.
    prefix_lines: int = Field(64, ge=0, le=2000)
    #: Lines after the cursor's line sent as the suffix window.
    suffix_lines: int = Field(16, ge=0, le=2000)
    #: Tokens a suggestion may have.
    max_tokens: int = Field(64, gt=0, le=2048)
    #: Milliseconds of generation after the first line (llama.cpp ``t_max_predict_ms``).
    time_budget_ms: int = Field(1500, gt=0, le=60000)
    #: Milliseconds an automatic trigger waits for the next keystroke before asking the model.
    debounce_ms: int = Field(100, ge=0, le=5000)
    #: Seconds one model request may take before the suggestion is given up (empty result).
    timeout: float = Field(20.0, gt=0, le=600)
    #: Chunks of other recently used files sent as extra context (llama.cpp ``input_extra``).
    ring_chunks: int = Field(8, ge=0, le=64)
    #: Lines per extra chunk.
    ring_chunk_lines: int = Field(32, ge=4, le=512)
