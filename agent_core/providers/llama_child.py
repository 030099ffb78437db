"""The model server's own process: llama.cpp's server (the ``xllamacpp`` wheel) on a loopback port.

The server runs in a child process rather than in agent-lsp's own, so a model that crashes
llama.cpp, runs out of memory or is killed takes only itself down: the turn ends with a message
and the next one starts it again. The parent (:mod:`agent_core.providers.model_server`) starts
``python -m agent_core.providers.llama_child PARAMS_JSON FD``; this process loads the model, writes
one JSON line to the inherited file descriptor ``FD`` (``{"address": "http://127.0.0.1:PORT"}`` or
``{"error": "..."}``) and then serves until its standard input closes, which happens when the
parent stops it or dies for any reason, so no server outlives agent-lsp.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from typing import Any


def check_address(host: str, port: int) -> None:
    """Fail with a clear reason when ``host:port`` cannot be listened on (llama.cpp itself only
    says "Failed to init server")."""
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise OSError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def start_server(params: dict[str, Any]) -> Any:
    """Load the model and listen; returns the server (it serves while the object lives)."""
    import xllamacpp  # only in this process: loading it is not free

    settings = xllamacpp.CommonParams()
    settings.model.path = params["model"]
    settings.n_ctx = params["n_ctx"]
    settings.port = params.get("port", 0)  # 0: the server picks a free port, no race
    settings.hostnames = [params.get("host", "127.0.0.1")]
    settings.use_jinja = True
    settings.verbosity = -1
    settings.cache_ram_mib = params.get("cache_ram_mib", settings.cache_ram_mib)
    if params.get("slot_save_path"):
        settings.slot_save_path = params["slot_save_path"]
    return xllamacpp.Server(settings)


def main(argv: list[str]) -> int:
    params = json.loads(argv[1])
    report_fd = int(argv[2])
    server: Any = None
    message: dict[str, str]
    try:
        check_address(params.get("host", "127.0.0.1"), params.get("port", 0))
    except OSError as exc:
        message = {"error": str(exc), "stage": "listen"}
    else:
        try:
            server = start_server(params)
            message = {"address": str(server.listening_address).rstrip("/")}
        except Exception as exc:  # xllamacpp raises plain RuntimeErrors; the parent shows the text
            message = {"error": f"{type(exc).__name__}: {exc}", "stage": "load"}
    os.write(report_fd, (json.dumps(message) + "\n").encode("utf-8"))
    os.close(report_fd)
    if server is None:
        return 1
    sys.stdin.buffer.read()  # returns at EOF: the parent closed the pipe or is gone
    return 0


if __name__ == "__main__":
    # os._exit: llama.cpp's threads need no orderly goodbye, and waiting for them could hang.
    os._exit(main(sys.argv))
