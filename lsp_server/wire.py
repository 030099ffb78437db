"""The agent protocol on the wire (docs/protocol.md), defined once for the Python side.

Every ``agent/*`` method name (kept in :mod:`lsp_server.methods`), every notification's params,
every command's argument object and result is a model here, so the server can neither send a
misspelt key nor read one the protocol does not have: command handlers get their argument
through :func:`parse_arguments`, and results and notifications leave through
:meth:`WireModel.wire`. Python names are snake_case, the wire's camelCase (pydantic's
``to_camel``). A field the protocol marks optional (``reason?``) is left out when it is None;
every other field is always sent, ``null`` included. ``tests/server/test_wire.py`` holds these
models against the tables of docs/protocol.md and the names in the VS Code client.
An argument field's ``description`` says what it must be, for the errors of
:func:`lsp_server.arguments.parse_arguments`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated, Any, ClassVar, Literal

from lsprotocol import types
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError
from pygls.lsp.server import LanguageServer

from agent_core import checkpoints as core_checkpoints
from agent_core.agent import CheckpointSpace
from agent_core.events import NoticeLevel, StopReason
from agent_core.mcp.manager import ServerStatus
from agent_core.messages import Message, MessageKind, Role, Usage
from agent_core.providers.model_server import ModelStatus
from agent_core.sessions import Session
from agent_core.sessions import SessionInfo as CoreSessionInfo

# The method names, re-exported (they live where the server can read them before loading this).
from lsp_server.methods import (
    CANCEL,
    CHAT,
    CHECKPOINT_DIFF,
    CHECKPOINT_LIST,
    CHECKPOINT_RESTORE,
    CHECKPOINT_UNDO,
    COMPLETION_ACCEPTED,
    INLINE_EDIT,
    INLINE_EDIT_ACCEPT,
    INLINE_EDIT_PROPOSAL,
    INLINE_EDIT_REJECT,
    NOTICE,
    RETRY,
    SESSION_DELETE,
    SESSION_EXPORT,
    SESSION_LIST,
    SESSION_LOAD,
    SESSION_NEW,
    SESSION_RENAME,
    SESSION_RESTORED,
    SESSION_SAVE,
    STATUS,
    TEXT_DELTA,
    TOOL_CALL,
    TURN_ENDED,
    TURN_STARTED,
)

#: The largest LSP ``uinteger`` (2^31 - 1): line and character numbers above it are invalid.
UINTEGER_MAX = 2**31 - 1

TurnKind = Literal["chat", "inlineEdit"]


def _absent(value: object) -> bool:
    return value is None


def optional(description: str = "") -> Any:
    """An optional field (``x?`` in docs/protocol.md): None by default, left out when None."""
    return Field(None, description=description or None, exclude_if=_absent)


class WireModel(BaseModel):
    """One JSON object of the protocol."""

    # Unknown keys are ignored: a newer client may send more than this server knows.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    def wire(self) -> dict[str, Any]:
        """The camelCase JSON object, optional fields left out when they are None."""
        return self.model_dump(mode="json", by_alias=True)


class Notification(WireModel):
    """The params of one server-to-client notification; :attr:`METHOD` is its method."""

    METHOD: ClassVar[str]


def notify(server: LanguageServer, params: Notification) -> None:
    """Send ``params`` as its notification."""
    server.protocol.notify(params.METHOD, params.wire())


# -- shared shapes ------------------------------------------------------------------------------


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("blank")
    return value


NonBlank = Annotated[StrictStr, AfterValidator(_not_blank)]
Count = Annotated[StrictInt, Field(ge=0, le=UINTEGER_MAX)]


class Position(WireModel):
    line: Count = Field(description=f"an integer from 0 to {UINTEGER_MAX}")
    character: Count = Field(description=f"an integer from 0 to {UINTEGER_MAX}")


class Range(WireModel):
    """An LSP range in the negotiated position encoding."""

    start: Position = Field(description="an object {line, character}")
    end: Position = Field(description="an object {line, character}")

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if (self.end.line, self.end.character) < (self.start.line, self.start.character):
            raise PydanticCustomError("range_order", "ends before it starts")
        return self

    @classmethod
    def of(cls, range_: types.Range) -> Range:
        return cls(
            start=Position(line=range_.start.line, character=range_.start.character),
            end=Position(line=range_.end.line, character=range_.end.character),
        )

    def lsp(self) -> types.Range:
        return types.Range(
            start=types.Position(line=self.start.line, character=self.start.character),
            end=types.Position(line=self.end.line, character=self.end.character),
        )


class SessionInfo(WireModel):
    """``{id, title, created, updated, messageCount, preview, error?}``; times in epoch seconds,
    ``error`` set for a session file that cannot be read (kept, never overwritten)."""

    id: str
    title: str
    created: float
    updated: float
    message_count: int
    preview: str
    error: str | None = optional()

    @classmethod
    def of(cls, info: CoreSessionInfo) -> SessionInfo:
        return cls(
            id=info.id,
            title=info.title,
            created=info.created,
            updated=info.updated,
            message_count=info.message_count,
            preview=info.preview,
            error=info.error,
        )


class ToolCallInfo(WireModel):
    id: str
    name: str
    arguments: dict[str, Any]


class TranscriptMessage(WireModel):
    """One message of a transcript as clients show it."""

    id: str
    role: Role
    content: str
    tool_calls: list[ToolCallInfo]
    tool_call_id: str | None = optional()
    name: str | None = optional()
    is_error: bool
    interrupted: bool
    kind: MessageKind
    created: float

    @classmethod
    def of(cls, message: Message) -> TranscriptMessage:
        return cls(
            id=message.id,
            role=message.role,
            content=message.content,
            tool_calls=[ToolCallInfo(id=c.id, name=c.name, arguments=c.arguments) for c in message.tool_calls],
            tool_call_id=message.tool_call_id,
            name=message.name,
            is_error=message.is_error,
            interrupted=message.interrupted,
            kind=message.kind,
            created=message.created,
        )


def transcript(messages: Iterable[Message]) -> list[TranscriptMessage]:
    """A whole conversation, in order. System prompts are internal and left out."""
    return [TranscriptMessage.of(m) for m in messages if m.role != "system"]


class TokenUsage(WireModel):
    """``{inputTokens, outputTokens}`` (zeros when the provider reported nothing)."""

    input_tokens: int = 0
    output_tokens: int = 0

    @classmethod
    def of(cls, usage: Usage | None) -> TokenUsage:
        usage = usage or Usage()
        return cls(input_tokens=usage.input_tokens, output_tokens=usage.output_tokens)


# -- notifications (server to client) -----------------------------------------------------------


class TurnStartedParams(Notification):
    METHOD = TURN_STARTED
    turn_id: str
    kind: TurnKind
    #: The instruction, for an inline edit.
    prompt: str


class TextDeltaParams(Notification):
    METHOD = TEXT_DELTA
    turn_id: str
    text: str


class ToolCallParams(Notification):
    METHOD = TOOL_CALL
    turn_id: str
    id: str
    name: str
    status: Literal["started", "running", "finished"]
    arguments: dict[str, Any] | None = optional()
    output: str | None = optional()
    is_error: bool | None = optional()


class RetryParams(Notification):
    METHOD = RETRY
    turn_id: str
    attempt: int
    max_attempts: int
    delay: float
    reason: str


class NoticeParams(Notification):
    METHOD = NOTICE
    #: None for a notice outside any turn.
    turn_id: str | None = optional()
    level: NoticeLevel
    text: str


class InlineEditProposalParams(Notification):
    METHOD = INLINE_EDIT_PROPOSAL
    turn_id: str
    uri: str
    range: Range
    new_text: str


class TurnEndedParams(Notification):
    METHOD = TURN_ENDED
    turn_id: str
    stop_reason: StopReason
    usage: TokenUsage
    error: str | None = optional()


class SessionRestoredParams(Notification):
    """Also the result of ``agent.session.load``."""

    METHOD = SESSION_RESTORED
    session: SessionInfo
    transcript: list[TranscriptMessage]
    #: The URI of the workspace folder whose session this is.
    folder: str

    @classmethod
    def of(cls, info: CoreSessionInfo, messages: Sequence[Message], folder: str) -> SessionRestoredParams:
        return cls(session=SessionInfo.of(info), transcript=transcript(messages), folder=folder)

    @classmethod
    def of_session(cls, session: Session, folder: str) -> SessionRestoredParams:
        return cls.of(session.info(), session.messages, folder)


NOTIFICATIONS: dict[str, type[Notification]] = {
    model.METHOD: model
    for model in (
        TurnStartedParams,
        TextDeltaParams,
        ToolCallParams,
        RetryParams,
        NoticeParams,
        InlineEditProposalParams,
        TurnEndedParams,
        SessionRestoredParams,
    )
}


# -- the request (server to client) -------------------------------------------------------------


class PermissionRequestParams(WireModel):
    turn_id: str
    tool: str
    title: str
    #: The unified diff, or the command line and its working directory.
    detail: str


class PermissionAnswer(WireModel):
    decision: Literal["allow_once", "allow_session", "reject"]
    #: Given with ``reject``; goes back to the model.
    reason: str | None = optional()

    @field_validator("reason", mode="before")
    @classmethod
    def _text_or_nothing(cls, value: object) -> str | None:
        return value if isinstance(value, str) and value else None


# -- command arguments ------------------------------------------------------------------------


class Arguments(WireModel):
    """A command's one argument object."""


class FolderArgs(Arguments):
    """Session commands and status act on the folder of ``uri`` (multi-root), else the first."""

    uri: StrictStr | None = optional("a string")


class ChatContext(WireModel):
    uri: StrictStr | None = optional("a string")
    range: Range | None = optional("an object {start, end}")
    #: The selected text; read from the synced document when missing and ``range`` is given.
    text: StrictStr | None = optional("a string")
    diagnostics: list[StrictStr] | None = optional("a list of strings")


class ChatArgs(Arguments):
    prompt: NonBlank = Field(description="a non-empty string")
    context: ChatContext | None = optional("an object {uri?, range?, text?, diagnostics?}")
    session_id: StrictStr | None = optional("a string")


class InlineEditArgs(Arguments):
    uri: NonBlank = Field(description="a non-empty string")
    range: Range = Field(description="an object {start, end}")
    instruction: StrictStr | None = optional("a string")


class InlineAcceptArgs(Arguments):
    turn_id: NonBlank = Field(description="a non-empty string")


class InlineRejectArgs(Arguments):
    turn_id: NonBlank = Field(description="a non-empty string")
    reason: StrictStr | None = optional("a string")


class CancelArgs(Arguments):
    #: Default: every running turn.
    turn_id: StrictStr | None = optional("a string")


class SessionIdArgs(FolderArgs):
    id: NonBlank = Field(description="a non-empty string")


class SessionSaveArgs(FolderArgs):
    title: StrictStr | None = optional("a string")


class SessionRenameArgs(SessionIdArgs):
    title: NonBlank = Field(description="a non-empty string")


class CompletionAcceptedArgs(Arguments):
    """Run by the client when the user accepts a suggestion (each item's ``command``)."""

    id: NonBlank = Field(description="a non-empty string")
    #: The part taken, for a partial accept (a line, a word).
    text: StrictStr | None = optional("a string")


# -- command results ----------------------------------------------------------------------------


class TurnResult(WireModel):
    turn_id: str


class AcceptResult(WireModel):
    applied: bool
    reason: str | None = optional()


class EmptyResult(WireModel):
    pass


class CancelResult(WireModel):
    cancelled: bool


class SessionListResult(WireModel):
    #: Newest first.
    sessions: list[SessionInfo]


class SessionResult(WireModel):
    session: SessionInfo


class DeleteResult(WireModel):
    deleted: Literal[True] = True


class ExportResult(WireModel):
    markdown: str


class RunningTurn(WireModel):
    turn_id: str
    kind: TurnKind


class McpServerInfo(WireModel):
    """One configured MCP server in ``agent.status``."""

    name: str
    #: ``client``, ``settings``, ``.vscode/mcp.json`` or ``.mcp.json``.
    source: str
    #: ``stdio`` or ``http`` (empty for a disabled server).
    transport: str
    #: ``stopped``, ``starting``, ``running``, ``restarting``, ``failed``, ``disabled``,
    #: ``untrusted`` or ``declined``.
    state: str
    #: Tools offered to the model.
    tools: int
    error: str | None = optional()

    @classmethod
    def of(cls, status: ServerStatus) -> McpServerInfo:
        return cls(
            name=status.name,
            source=status.source,
            transport=status.transport,
            state=status.state,
            tools=status.tools,
            error=status.error,
        )


class LocalModelStatus(WireModel):
    """The embedded model in ``agent.status`` (see :class:`~agent_core.providers.model_server.ModelStatus`)."""

    id: str
    name: str
    file: str
    #: not_installed, not_started, verifying, assembling, loading, ready or failed.
    state: str
    #: What to install or change, for not_installed and failed.
    reason: str | None

    @classmethod
    def of(cls, status: ModelStatus) -> LocalModelStatus:
        return cls(id=status.id, name=status.name, file=status.file, state=status.state, reason=status.reason)


class CompletionStatus(WireModel):
    """Ghost-text completions in ``agent.status`` (see docs/protocol.md, Completions)."""

    enabled: bool
    #: The source the settings name (also while ``enabled`` is false); None: no source.
    source: str | None
    model: str | None
    #: The endpoint found to work (infill, completions, chat); None before the first suggestion.
    endpoint: str | None
    #: The model server's state (loading, ready, failed, ...).
    state: str | None = None
    #: Why completion is off.
    reason: str | None
    #: The last failure (None after a success).
    problem: str | None
    extra_chunks: int
    queued_chunks: int
    requests: int
    shown: int
    accepted: int
    cache_hits: int
    model_calls: int


class CompletionAcceptedResult(WireModel):
    #: False for an unknown or already counted suggestion.
    accepted: bool


class CheckpointDiffArgs(FolderArgs):
    id: NonBlank = Field(description="a non-empty string")
    #: One file, relative to the folder.
    path: StrictStr | None = optional("a string")


class CheckpointRestoreArgs(FolderArgs):
    id: NonBlank = Field(description="a non-empty string")
    mode: Literal["files", "conversation", "both"] = Field(description='"files", "conversation" or "both"')
    force: StrictBool | None = optional("a boolean")
    skip_conflicts: StrictBool | None = optional("a boolean")


class CheckpointFile(WireModel):
    path: str
    change: Literal["added", "modified", "deleted"]
    added: int
    removed: int
    conflict: bool


class Checkpoint(WireModel):
    id: str
    #: The server turn that made it, when it ran in this process.
    turn_id: str | None
    time: float
    prompt: str
    files: list[CheckpointFile]
    conflicts: bool
    bytes: int

    @classmethod
    def of(cls, info: core_checkpoints.CheckpointInfo) -> Checkpoint:
        files = [CheckpointFile.model_validate(f, from_attributes=True) for f in info.files]
        return cls(
            id=info.id,
            turn_id=info.turn_id,
            time=info.time,
            prompt=info.prompt,
            files=files,
            conflicts=info.conflicts,
            bytes=info.bytes,
        )


class CheckpointListResult(WireModel):
    checkpoints: list[Checkpoint]


class FileDiff(WireModel):
    path: str
    before: str | None
    current: str | None
    diff: str
    binary: bool


class CheckpointDiffResult(WireModel):
    files: list[FileDiff]


class SkippedFile(WireModel):
    path: str
    reason: str


class RestoreResult(WireModel):
    restored: list[str]
    conflicts: list[str]
    skipped: list[SkippedFile]
    conversation: bool

    @classmethod
    def of(cls, result: core_checkpoints.RestoreResult) -> RestoreResult:
        return cls(
            restored=result.restored,
            conflicts=result.conflicts,
            skipped=[SkippedFile.model_validate(entry) for entry in result.skipped],
            conversation=result.conversation,
        )


class CheckpointSpaceInfo(WireModel):
    count: int
    bytes: int
    quota_bytes: int

    @classmethod
    def of(cls, space: CheckpointSpace) -> CheckpointSpaceInfo:
        return cls(count=space.count, bytes=space.bytes, quota_bytes=space.quota_bytes)


class StatusResult(WireModel):
    version: str
    #: The configured values until the first turn creates the provider.
    provider: str | None
    model: str | None
    session: SessionInfo | None
    #: The folder's chat turns since start-up.
    usage: TokenUsage
    running: bool
    turns: list[RunningTurn]
    folder: str
    settings_problems: list[str]
    mcp_servers: list[McpServerInfo]
    #: What was wrong with the MCP config (files, settings) when it was last read.
    mcp_problems: list[str]
    #: The embedded model when it is the provider.
    local_model: LocalModelStatus | None = None
    completion: CompletionStatus | None = None
    checkpoints: CheckpointSpaceInfo | None = None


#: Every command: its argument model and its result model.
COMMANDS: dict[str, tuple[type[Arguments], type[WireModel]]] = {
    CHAT: (ChatArgs, TurnResult),
    INLINE_EDIT: (InlineEditArgs, TurnResult),
    INLINE_EDIT_ACCEPT: (InlineAcceptArgs, AcceptResult),
    INLINE_EDIT_REJECT: (InlineRejectArgs, EmptyResult),
    CANCEL: (CancelArgs, CancelResult),
    SESSION_LIST: (FolderArgs, SessionListResult),
    SESSION_LOAD: (SessionIdArgs, SessionRestoredParams),
    SESSION_NEW: (FolderArgs, SessionResult),
    SESSION_SAVE: (SessionSaveArgs, SessionResult),
    SESSION_RENAME: (SessionRenameArgs, SessionResult),
    SESSION_DELETE: (SessionIdArgs, DeleteResult),
    SESSION_EXPORT: (SessionIdArgs, ExportResult),
    STATUS: (FolderArgs, StatusResult),
    COMPLETION_ACCEPTED: (CompletionAcceptedArgs, CompletionAcceptedResult),
    CHECKPOINT_LIST: (FolderArgs, CheckpointListResult),
    CHECKPOINT_DIFF: (CheckpointDiffArgs, CheckpointDiffResult),
    CHECKPOINT_RESTORE: (CheckpointRestoreArgs, RestoreResult),
    CHECKPOINT_UNDO: (FolderArgs, RestoreResult),
}
