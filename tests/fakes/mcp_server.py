"""A real MCP server for tests, written with the ``mcp`` package's own server side (``MCPServer``).

Run it as a program, as an MCP config would::

    python tests/fakes/mcp_server.py [--http PORT_FILE] [--marker DIR] [--bad-schema] [--exit-at-start]

stdio by default; ``--http PORT_FILE`` serves streamable HTTP on 127.0.0.1 (a free port, written
to PORT_FILE once listening). It imports nothing from this repository, so it runs in the bare
environment an MCP server gets. Its tools:

``echo(text)``; ``pid()`` (its pid and a child's, left running); ``slow(seconds)`` (writes
``slow-started`` into the marker folder, then sleeps; ``slow-cancelled`` when the client cancels
it); ``crash()`` (exits with code 3 mid-call, after a line on stderr); ``big(megabytes)``;
``picture()`` (an image); ``grow()`` (adds the tool ``fresh`` and sends
``notifications/tools/list_changed``); ``env(name)``; ``where()`` (its working folder);
``peek()`` (marked read-only); with ``--bad-schema``, ``broken`` whose input schema is invalid.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
from pathlib import Path

from mcp.server.mcpserver import Context, Image, MCPServer
from mcp.types import ToolAnnotations

#: The smallest valid PNG (1x1, transparent).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ff"
    "ff3f0005fe02fea7d6a4c00000000049454e44ae426082"
)


def build(marker: Path | None, bad_schema: bool) -> MCPServer:
    app = MCPServer("fake", log_level="WARNING")

    def mark(name: str) -> None:
        if marker is not None:
            (marker / name).write_text(str(os.getpid()))

    @app.tool()
    def echo(text: str) -> str:
        """Return the text, prefixed with 'echo: '."""
        return "echo: " + text

    @app.tool()
    async def slow(seconds: float) -> str:
        """Sleep for the given seconds, then say so."""
        mark("slow-started")
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            mark("slow-cancelled")
            raise
        return f"slept {seconds} s"

    @app.tool()
    def crash() -> str:
        """Exit the server process at once (exit code 3)."""
        sys.stderr.write("fatal: crash requested by the test\n")
        sys.stderr.flush()
        os._exit(3)

    @app.tool(structured_output=False)
    def big(megabytes: int) -> str:
        """Return that many megabytes of text."""
        return "x" * (megabytes * 1024 * 1024)

    @app.tool()
    def picture() -> Image:
        """Return a tiny PNG image."""
        return Image(data=PNG, format="png")

    @app.tool()
    async def grow(ctx: Context) -> str:
        """Add the tool 'fresh' and tell the client the tool list changed."""
        app.add_tool(lambda: "fresh and new", name="fresh", description="A tool added while running.")
        await ctx.session.send_tool_list_changed()
        return "grown"

    @app.tool()
    def env(name: str) -> str:
        """The value of an environment variable, or <unset>."""
        return os.environ.get(name, "<unset>")

    @app.tool()
    def pid() -> str:
        """The server's process id, and that of a child it started in its process group."""
        import subprocess

        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        return f"{os.getpid()} {child.pid}"

    @app.tool()
    def where() -> str:
        """The server's working folder."""
        return os.getcwd()

    @app.tool(annotations=ToolAnnotations(read_only_hint=True))
    def peek() -> str:
        """Read something harmless."""
        return "peeked"

    if bad_schema:

        @app.tool()
        def broken(value: int) -> str:
            """A tool whose schema is invalid."""
            return str(value)

        app._tool_manager._tools["broken"].parameters = {
            "type": "object",
            "properties": {"value": {"type": "no-such-type"}},
        }
    return app


async def serve_http(app: MCPServer, port_file: Path) -> None:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app.streamable_http_app(), log_level="warning"))
    port_file.write_text(str(sock.getsockname()[1]))
    await server.serve(sockets=[sock])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", type=Path, metavar="PORT_FILE")
    parser.add_argument("--marker", type=Path)
    parser.add_argument("--bad-schema", action="store_true")
    parser.add_argument("--exit-at-start", action="store_true")
    args = parser.parse_args()
    if args.exit_at_start:
        sys.stderr.write("cannot start: missing configuration\n")
        raise SystemExit(2)
    app = build(args.marker, args.bad_schema)
    if args.http:
        asyncio.run(serve_http(app, args.http))
    else:
        app.run()


if __name__ == "__main__":
    main()
