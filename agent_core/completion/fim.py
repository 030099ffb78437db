"""Fill-in-the-middle prompts for ``/v1/completions``: one table of model families and their tokens.

A base code model completes the middle when the prompt lays out prefix and suffix with its own
special tokens; which tokens depends on the family it was trained as, and the model name says
which (Ollama's ``qwen2.5-coder:1.5b``, vLLM's ``deepseek-ai/deepseek-coder-1.3b-base``...). The
same table lists every special token that must never reach the editor: a model that runs past
its middle writes them, and :mod:`agent_core.completion.quality` cuts the text at the first one.
llama.cpp's ``/infill`` does this layout itself (from the model's own vocabulary), so this table
is only for servers without it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class FimFamily:
    name: str
    #: Searched in the lower-cased model name to select this family.
    pattern: str
    #: ``str.format`` template with ``{prefix}`` and ``{suffix}``.
    template: str
    #: Sent as ``stop``: the model's end-of-text and the tokens that start another section.
    stop: tuple[str, ...]


FAMILIES: tuple[FimFamily, ...] = (
    FimFamily(
        "qwen",
        r"qwen.*coder",
        "<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>",
        (
            "<|endoftext|>",
            "<|fim_prefix|>",
            "<|fim_suffix|>",
            "<|fim_middle|>",
            "<|fim_pad|>",
            "<|repo_name|>",
            "<|file_sep|>",
            "<|im_start|>",
            "<|im_end|>",
        ),
    ),
    FimFamily(
        "deepseek",
        r"deepseek.*coder",
        "<\uff5cfim\u2581begin\uff5c>{prefix}<\uff5cfim\u2581hole\uff5c>{suffix}<\uff5cfim\u2581end\uff5c>",
        (
            "<\uff5cfim\u2581begin\uff5c>",
            "<\uff5cfim\u2581hole\uff5c>",
            "<\uff5cfim\u2581end\uff5c>",
            "<\uff5cend\u2581of\u2581sentence\uff5c>",
            "<|EOT|>",
        ),
    ),
    FimFamily(
        "starcoder",
        r"starcoder",
        "<fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>",
        ("<|endoftext|>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>", "<repo_name>"),
    ),
    FimFamily(
        "codestral",
        r"codestral",
        # Mistral's layout puts the suffix first.
        "[SUFFIX]{suffix}[PREFIX]{prefix}",
        ("[PREFIX]", "[SUFFIX]", "[MIDDLE]", "</s>"),
    ),
)

_SLOTS = re.compile(r"(\{prefix\}|\{suffix\})")
_BY_NAME = {family.name: family for family in FAMILIES}

#: Every special token of every family, plus the generic ones chat models echo back.
SPECIAL_TOKENS: tuple[str, ...] = tuple(
    dict.fromkeys(
        [token for family in FAMILIES for token in family.stop]
        + ["<|fim_middle|>", "<fim_middle>", "<|file_separator|>", "<|cursor|>", "<CURSOR>", "<|eot_id|>"]
    )
)


def family_for(model: str | None, configured: str | None = None) -> FimFamily | None:
    """The configured family, else the first whose pattern is in the model name, else None."""
    if configured is not None:
        return _BY_NAME[configured]
    name = (model or "").lower()
    return next((family for family in FAMILIES if re.search(family.pattern, name)), None)


def fim_prompt(family: FimFamily, prefix: str, suffix: str) -> str:
    """The raw prompt: the template with the texts put in (not through ``str.format``, so braces
    in the code stay as they are)."""
    values = {"{prefix}": prefix, "{suffix}": suffix}
    return "".join(values.get(part, part) for part in _SLOTS.split(family.template))
