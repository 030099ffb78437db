"""The fixed start of every request (system prompt and tools), processed once and kept on disk.

On a CPU, reading the ~500-token prefix takes the model 15-45 s. llama.cpp reuses the longest
common prefix of a slot's previous prompt (``cache_prompt``), so within one server only the first
request pays it, and the LSP server pays it in the background right after start-up (the warm-up).
Across restarts (every ``agent-lsp chat`` is a new process) llama.cpp's slot save/restore helps:
once the prefix has been processed, the slot's KV state is saved to the cache folder, and a new
server restores it in milliseconds instead of reading the prefix again (measured by
``bench/local_model.py``).

The file name is a hash of everything the state depends on (the model file's hash, the llama.cpp
build, the context size, the prefix as sent), so a changed prompt or model never restores a wrong
state; llama.cpp compares the tokens too, so a stale file could at worst be useless. A file that
fails to restore is deleted. Priming is done once per server start and only before its first
request, so it never replaces a longer conversation already cached in the slot.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import logging
import os
from pathlib import Path
from typing import Any, Literal

import httpx

from agent_core.providers.local_models import LocalModel

log = logging.getLogger(__name__)

#: Saved prefixes kept per model (several workspaces may use different system prompts).
KEEP_FILES = 4

Outcome = Literal["restored", "warmed", "failed"]


def prefix_key(model: LocalModel, warm_body: dict[str, Any]) -> str:
    """A name for the KV state of ``warm_body``'s prefix on this model and llama.cpp build."""
    try:
        build = importlib.metadata.version("xllamacpp")
    except importlib.metadata.PackageNotFoundError:
        build = "unknown"
    fixed = {
        "model": model.sha256,
        "n_ctx": model.n_ctx,
        "build": build,
        "messages": warm_body.get("messages"),
        "tools": warm_body.get("tools"),
    }
    return hashlib.sha256(json.dumps(fixed, sort_keys=True).encode("utf-8")).hexdigest()[:32]


async def prime(
    http: httpx.AsyncClient,
    address: str,
    folder: Path,
    model: LocalModel,
    warm_body: dict[str, Any],
    *,
    save: bool = True,
) -> Outcome:
    """Get the prefix of ``warm_body`` into the server's slot: restored from ``folder`` when it was
    saved before, else processed now (and saved). Never raises for a server that lacks slot
    support or a file that cannot be written: the prefix is then simply processed by the request."""
    name = f"{model.id}-{prefix_key(model, warm_body)}.bin"
    saved = folder / name
    if saved.is_file():
        if await _slot_action(http, address, "restore", name):
            os.utime(saved)  # recently used: kept by the pruning below
            return "restored"
        with contextlib.suppress(OSError):
            saved.unlink()
    try:
        response = await http.post(address + "/v1/chat/completions", json=warm_body)
    except httpx.HTTPError as exc:
        log.info("warming the local model failed: %s", exc)
        return "failed"
    if response.status_code != 200:
        log.info("warming the local model failed: HTTP %s %s", response.status_code, response.text[:200])
        return "failed"
    if save and folder.is_dir():
        temp = f".{name}.{os.getpid()}.tmp"
        if await _slot_action(http, address, "save", temp):
            try:
                os.replace(folder / temp, saved)
            except OSError as exc:
                log.info("could not keep the warmed prompt: %s", exc)
            _prune(folder, model)
        with contextlib.suppress(OSError):
            (folder / temp).unlink()  # left only by a failed save
    return "warmed"


async def _slot_action(http: httpx.AsyncClient, address: str, action: str, filename: str) -> bool:
    try:
        response = await http.post(f"{address}/slots/0?action={action}", json={"filename": filename})
    except httpx.HTTPError as exc:
        log.info("slot %s failed: %s", action, exc)
        return False
    if response.status_code != 200:
        log.info("slot %s failed: HTTP %s %s", action, response.status_code, response.text[:200])
        return False
    return True


def _prune(folder: Path, model: LocalModel) -> None:
    """Keep the most recently used saved prefixes of ``model``; remove the rest."""
    dated = []
    for path in folder.glob(f"{model.id}-*.bin"):
        with contextlib.suppress(OSError):
            dated.append((path.stat().st_mtime, path))
    for _, old in sorted(dated, reverse=True)[KEEP_FILES:]:
        with contextlib.suppress(OSError):
            old.unlink()
