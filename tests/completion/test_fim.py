"""The FIM token table: the model name decides the family."""

from __future__ import annotations

import pytest

from agent_core.completion.fim import family_for, fim_prompt


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("qwen2.5-coder:1.5b", "qwen"),
        ("Qwen/Qwen2.5-Coder-7B", "qwen"),
        ("deepseek-ai/deepseek-coder-1.3b-base", "deepseek"),
        ("bigcode/starcoder2-3b", "starcoder"),
        ("codestral-latest", "codestral"),
        ("qwen2.5-7b-instruct", None),
        ("gpt-4o-mini", None),
        (None, None),
    ],
)
def test_family_from_the_model_name(model: str | None, family: str | None) -> None:
    found = family_for(model)
    assert (found.name if found else None) == family


def test_a_configured_family_wins() -> None:
    found = family_for("my-finetune", "starcoder")
    assert found is not None and found.name == "starcoder"


def test_prompts_keep_braces_and_order() -> None:
    qwen, codestral = family_for("qwen-coder"), family_for("codestral")
    assert qwen is not None and codestral is not None
    assert fim_prompt(qwen, "f({", "})") == "<|fim_prefix|>f({<|fim_suffix|>})<|fim_middle|>"
    assert fim_prompt(codestral, "a", "b") == "[SUFFIX]b[PREFIX]a"
