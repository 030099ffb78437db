"""Lone UTF-16 surrogates, replaced wherever text crosses a boundary of the process.

JSON may carry half of a surrogate pair (``"\\ud83d"`` alone): an editor selection that splits an
emoji, a buffer holding broken text, a model that emits one. Python decodes it into a string
that cannot be encoded as UTF-8, so the first session write or HTTP request holding it raises
``UnicodeEncodeError``, failing the turn and losing the tool result that carried it. Each lone
surrogate is replaced with U+FFFD (the replacement character) where editor text enters (every
message the LSP server reads) and where text leaves (session records, provider requests).

U+FFFD is one UTF-16 unit and one code point, like the surrogate it replaces, so positions in
every LSP position encoding stay the same.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_text(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (``text`` itself when it has none)."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub(REPLACEMENT, text)
    return text


def valid_json(value: Any) -> Any:
    """A JSON-like value (dicts, lists, strings, numbers) with :func:`valid_text` applied to
    every string in it, keys included; other values are returned as they are."""
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, dict):
        return {valid_json(key): valid_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [valid_json(item) for item in value]
    return value


def loads_valid(text: str) -> Any:
    """``text`` parsed as JSON with :func:`valid_json` applied; raises ``ValueError`` on bad JSON.

    A lone surrogate can only come in through a ``\\u`` escape (or be in ``text`` itself: decoded
    text holds none). Text without one is parsed by orjson (a quarter of ``json.loads``' cost on
    the small documents a provider streams, one per token) and needs no walk; text with one goes
    through ``json.loads`` (orjson refuses a lone surrogate) and the walk."""
    if "\\u" in text or valid_text(text) is not text:
        return valid_json(json.loads(text))
    return orjson.loads(text)
