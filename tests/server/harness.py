"""End-to-end harness: the real server over stdio, driven by pytest-lsp's client (fixtures in
conftest.py: ``start_server``, ``client_name``).

Each test starts ``python -m lsp_server`` as a subprocess with the recorded capabilities of a
real client (Neovim or VS Code), against the shared fake LLM server on loopback. The
:class:`AgentClient` records every ``agent/*`` notification and answers the server's requests
(``workspace/applyEdit``, ``agent/requestPermission``, ``window/showMessageRequest``) the way a
test scripts them; tests wait for notifications with a bound, never by sleeping.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Union

from lsprotocol import types
from lsprotocol.converters import get_converter
from pytest_lsp import LanguageClient

from tests.fakes.llm_server import FakeLLM

CLIENTS = ["neovim", "visual_studio_code"]
WAIT = 15.0
REPO = Path(__file__).resolve().parents[2]

AGENT_NOTIFICATIONS = [
    "agent/turnStarted",
    "agent/textDelta",
    "agent/toolCall",
    "agent/retry",
    "agent/notice",
    "agent/inlineEditProposal",
    "agent/turnEnded",
    "agent/sessionRestored",
]


def server_env() -> dict[str, str]:
    """The test process's environment without any real provider key or URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    return env


def fake_settings(llm: FakeLLM, **extra: Any) -> dict[str, Any]:
    """Settings pointing the agent at the fake server, with instant retries."""
    settings: dict[str, Any] = {
        "provider": "openai",
        "baseUrl": llm.base_url + "/v1",
        "model": "fake-model",
        "retry": {"initialDelay": 0.001, "maxDelay": 0.01},
    }
    settings.update(extra)
    return settings


#: How the client answers ``workspace/applyEdit``.
ApplyAnswer = Callable[[types.ApplyWorkspaceEditParams], types.ApplyWorkspaceEditResult]


class AgentClient:
    """A pytest-lsp client plus a record of what the agent server sent."""

    def __init__(self, client: LanguageClient, root: Path) -> None:
        self.client = client
        self.root = root
        self.notes: list[tuple[str, Any]] = []
        self._changed = asyncio.Condition()
        self.applied_edits: list[types.ApplyWorkspaceEditParams] = []
        self.apply_answer: ApplyAnswer = lambda _params: types.ApplyWorkspaceEditResult(applied=True)
        self.permission_requests: list[Any] = []
        self.permission_answer: dict[str, Any] = {"decision": "allow_once"}
        #: Runs while an approval question is open (e.g. the user edits the buffer meanwhile).
        self.while_asked: Callable[[], None] = lambda: None
        self.message_requests: list[types.ShowMessageRequestParams] = []
        self.message_answer: str | None = "Allow once"
        self.initialize_result: types.InitializeResult | None = None
        for method in AGENT_NOTIFICATIONS:
            client.feature(method)(_handler(functools.partial(self._record, method)))
        client.feature(types.WORKSPACE_APPLY_EDIT)(_handler(self._apply_edit))
        client.feature("agent/requestPermission")(_handler(self._permission))
        client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)(_handler(self._message_request))
        # lsprotocol reads every code action that has a ``command`` as a bare Command (its hook
        # checks only that the key exists); real clients look at the type, and so does this one.
        converter = client.protocol._converter
        converter.register_structure_hook(
            Union[types.Command, types.CodeAction],  # noqa: UP007 - the exact key lsprotocol registers its hook under
            lambda obj, _t: converter.structure(
                obj, types.Command if isinstance(obj.get("command"), str) else types.CodeAction
            ),
        )
        # Replace pytest-lsp's own recorders (they keep filling client.messages and
        # client.log_messages, see below), so a test can wait for these too.
        client.protocol.fm.features.pop(types.WINDOW_SHOW_MESSAGE, None)
        client.feature(types.WINDOW_SHOW_MESSAGE)(_handler(self._show_message))
        client.protocol.fm.features.pop(types.WINDOW_LOG_MESSAGE, None)
        client.feature(types.WINDOW_LOG_MESSAGE)(_handler(self._log_message))

    async def _record(self, method: str, params: Any) -> None:
        async with self._changed:
            self.notes.append((method, _plain(params)))
            self._changed.notify_all()

    async def _show_message(self, params: types.ShowMessageParams) -> None:
        self.client.messages.append(params)
        await self._record("window/showMessage", {"type": params.type.value, "message": params.message})

    async def _log_message(self, params: types.LogMessageParams) -> None:
        self.client.log_messages.append(params)
        await self._record("window/logMessage", {"type": params.type.value, "message": params.message})

    async def _apply_edit(self, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        self.applied_edits.append(params)
        await self._record("workspace/applyEdit", {})
        return self.apply_answer(params)

    async def _permission(self, params: Any) -> Any:
        self.permission_requests.append(_plain(params))
        await self._record("agent/requestPermission", _plain(params))
        self.while_asked()
        return self.permission_answer

    async def _message_request(self, params: types.ShowMessageRequestParams) -> Any:
        self.message_requests.append(params)
        await self._record("window/showMessageRequest", {"message": params.message})
        return types.MessageActionItem(title=self.message_answer) if self.message_answer else None

    # -- waiting ----------------------------------------------------------------------------

    def of(self, method: str, turn_id: str | None = None) -> list[Any]:
        return [p for m, p in self.notes if m == method and (turn_id is None or p.get("turnId") == turn_id)]

    async def wait_for(
        self, method: str, predicate: Callable[[Any], bool] = lambda _p: True, timeout: float = WAIT
    ) -> Any:
        """The first ``method`` notification (already received or still to come) matching."""

        async def found() -> Any:
            async with self._changed:
                while True:
                    for m, params in self.notes:
                        if m == method and predicate(params):
                            return params
                    await self._changed.wait()

        try:
            return await asyncio.wait_for(found(), timeout)
        except TimeoutError:
            seen = [m for m, _ in self.notes]
            raise AssertionError(f"no matching {method} within {timeout}s; received {seen}") from None

    async def wait_text(self, turn_id: str, text: str, timeout: float = WAIT) -> None:
        """Until the turn's streamed text so far is ``text``."""
        await self.wait_for(
            "agent/textDelta", lambda p: p["turnId"] == turn_id and self.text_of(turn_id) == text, timeout
        )

    async def turn_ended(self, turn_id: str) -> Any:
        return await self.wait_for("agent/turnEnded", lambda p: p["turnId"] == turn_id)

    def text_of(self, turn_id: str) -> str:
        return "".join(p["text"] for p in self.of("agent/textDelta", turn_id))

    # -- requests ---------------------------------------------------------------------------

    async def command(self, name: str, argument: dict[str, Any] | None = None) -> Any:
        params = types.ExecuteCommandParams(command=name, arguments=[argument or {}])
        return _plain(await self.client.workspace_execute_command_async(params))

    def open(self, name: str, text: str, version: int = 1, language: str = "python") -> str:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        uri = path.as_uri()
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id=language, version=version, text=text)
            )
        )
        return uri

    def change(self, uri: str, text: str, version: int) -> None:
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )


def _handler(fn: Callable[[Any], Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """A pygls client handler (gets the client first) calling ``fn(params)``."""

    async def handle(ls: LanguageClient, params: Any) -> Any:
        return await fn(params)

    return handle


def _plain(params: Any) -> Any:
    """Notification params as plain JSON-like data (pygls hands unknown methods over as objects)."""
    if params is None or isinstance(params, (str, int, float, bool)):
        return params
    if isinstance(params, dict):
        return {k: _plain(v) for k, v in params.items()}
    if hasattr(params, "_asdict"):  # pygls hands unknown JSON objects over as named tuples
        return {k: _plain(v) for k, v in params._asdict().items()}
    if isinstance(params, (list, tuple)):
        return [_plain(v) for v in params]
    if hasattr(params, "__attrs_attrs__"):
        return get_converter().unstructure(params)
    return params


StartServer = Callable[..., Awaitable[AgentClient]]


def hold_configuration_answers(client: LanguageClient, release: asyncio.Event) -> None:
    """Answer ``workspace/configuration`` only once ``release`` is set (a slow editor)."""

    async def answer(ls: LanguageClient, params: types.ConfigurationParams) -> list[Any]:
        await release.wait()
        return [ls.get_configuration(section=item.section, scope_uri=item.scope_uri) for item in params.items]

    client.protocol.fm.features.pop(types.WORKSPACE_CONFIGURATION, None)
    client.feature(types.WORKSPACE_CONFIGURATION)(answer)


async def stop(agent_client: AgentClient) -> None:
    """Shut a server down the way an editor does and wait for the process to exit."""
    client = agent_client.client
    if client._server is not None and client._server.returncode is None:
        await asyncio.wait_for(client.shutdown_session(), WAIT)
    await client.stop()
