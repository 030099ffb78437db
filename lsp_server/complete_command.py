"""``agent-lsp complete FILE:LINE:COL``: print what the server would suggest at that position.

For trying completion settings without an editor, and for bug reports: the same engine, the same
settings (``--settings`` takes the editor's settings object as JSON, or ``@file.json``) and the
same rules as ``textDocument/inlineCompletion``, on the file as it is on disk. LINE and COL are
1-based, COL counts characters; positions past a line's or the file's end are clamped. The
suggestion goes to stdout exactly as an editor would insert it; ``-v`` adds to stderr where it
came from and how long it took. Unlike the server, this waits for the embedded model to load.
Exit status: 0 with a suggestion, 1 without one (the reason on stderr), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from agent_core.completion.engine import CompletionRequest
from agent_core.completion.local import EmbeddedModelServer
from agent_core.completion.select import installed_local_model, make_engine
from agent_core.config import AgentConfig
from agent_core.providers.base import ProviderError
from agent_core.providers.local import LocalProvider
from lsp_server.documents import offset_at
from lsp_server.settings import parse_settings

PROG = "agent-lsp complete"
#: Code points: COL counts characters, whatever the file's encoding.
_CODEC = PositionCodec(types.PositionEncodingKind.Utf32)


class UsageError(Exception):
    """Bad arguments; the message says which."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Print the completion the server would suggest.")
    parser.add_argument("position", metavar="FILE:LINE:COL", help="1-based line and column in FILE")
    parser.add_argument(
        "--settings",
        metavar="JSON|@FILE",
        help='the editor\'s agent settings object (e.g. \'{"completion": {"baseUrl": ...}}\')',
    )
    parser.add_argument("--source", choices=["auto", "local", "openai", "anthropic"], help="completion.source")
    parser.add_argument("--base-url", help="completion.baseUrl: an OpenAI-compatible server")
    parser.add_argument("--model", help="completion.model")
    parser.add_argument("--workspace", default=".", help="the workspace folder (default: the current folder)")
    parser.add_argument(
        "--wait",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="how long to wait for the embedded model to load (default 600)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="say on stderr where the suggestion came from")
    return parser


def parse_position(value: str) -> tuple[Path, int, int]:
    path, _, rest = value.rpartition(":")
    file, _, line = path.rpartition(":")
    if not file or not line.isdigit() or not rest.isdigit() or int(line) < 1 or int(rest) < 1:
        raise UsageError(f"expected FILE:LINE:COL with 1-based numbers, e.g. app.py:12:5, got {value!r}")
    return Path(file), int(line), int(rest)


def load_config(args: argparse.Namespace, err: TextIO) -> AgentConfig:
    raw: Any = None
    if args.settings:
        text = args.settings
        if text.startswith("@"):
            try:
                text = Path(text[1:]).read_text(encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"cannot read the settings file {text[1:]}: {exc.strerror}") from exc
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise UsageError(f"--settings is not JSON: {exc}") from exc
    parsed = parse_settings(raw)
    for problem in parsed.problems:
        err.write(f"{PROG}: settings: {problem}\n")
    overrides = {
        key: value
        for key, value in (("source", args.source), ("base_url", args.base_url), ("model", args.model))
        if value is not None
    }
    completion = parsed.config.completion.model_copy(update=overrides)
    return parsed.config.model_copy(update={"completion": completion})


async def complete(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    file, line, column = parse_position(args.position)
    config = load_config(args, err)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {file}: {exc}") from exc
    offset = offset_at(text, types.Position(line=line - 1, character=column - 1), _CODEC)
    workspace = Path(args.workspace).resolve()
    resolved = file.resolve()
    shown = resolved.relative_to(workspace).as_posix() if resolved.is_relative_to(workspace) else str(resolved)
    problems: list[str] = []
    model = installed_local_model(config)
    local = EmbeddedModelServer(LocalProvider(model)) if model is not None else None
    engine = make_engine(config, os.environ, local, on_problem=problems.append)
    try:
        if engine.source is None:
            err.write(f"{PROG}: completion is off: {engine.off_reason}\n")
            return 1
        if engine.source.name == "local" and local is not None:
            try:
                await asyncio.wait_for(local.ensure_started(), args.wait)
            except (ProviderError, TimeoutError) as exc:
                err.write(f"{PROG}: the embedded model did not start: {exc or 'timed out'}\n")
                return 1
        started = time.perf_counter()
        request = CompletionRequest(
            document=resolved.as_uri(),
            path=shown,
            text=text,
            offset=offset,
            language=resolved.suffix.lstrip(".") or None,
        )
        result = await engine.complete(request)
        elapsed = (time.perf_counter() - started) * 1000
    finally:
        await engine.aclose()
        if local is not None:
            await local.aclose()
    described = engine.status()
    if args.verbose:
        err.write(
            f"{PROG}: source {described['source']}, model {described['model']}, endpoint "
            f"{described['endpoint']}, {result.how}, {elapsed:.0f} ms\n"
        )
    if not result.suggestions:
        reason = problems[0] if problems else "the model suggested nothing here"
        err.write(f"{PROG}: no suggestion: {reason}\n")
        return 1
    out.write(result.suggestions[0].text)
    out.write("\n")
    return 0


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        return asyncio.run(complete(args, sys.stdout, sys.stderr))
    except UsageError as exc:
        sys.stderr.write(f"{PROG}: {exc}\n")
        return 2
