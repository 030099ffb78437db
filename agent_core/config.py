"""Every setting of the agent, typed, with defaults, validated once.

Front ends build an :class:`AgentConfig` from wherever settings come from (CLI flags, LSP
``initializationOptions`` / ``workspace/configuration``). Field names are snake_case in Python and
accepted in camelCase too (``maxAttempts``), which is what VS Code settings look like.
API keys are never stored here: only the *name* of the environment variable that holds one.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from agent_core.completion.config import CompletionConfig
from agent_core.exceptions import AgentError

ProviderName = Literal["openai", "anthropic", "local"]
#: The embedded models (see :mod:`agent_core.providers.local_models`).
LocalModelName = Literal["qwen2.5-coder-1.5b", "smollm2-135m"]
ApprovalMode = Literal["ask", "allow", "deny"]

#: The environment variable each provider reads its API key from unless ``apiKeyEnv`` names another.
DEFAULT_KEY_ENVS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}


class _Settings(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class RetryConfig(_Settings):
    """Defaults follow the official SDKs: 3 attempts, 0.5 s doubling to 8 s, 25% jitter."""

    max_attempts: int = Field(3, ge=1, le=20)
    initial_delay: float = Field(0.5, ge=0, le=60)
    max_delay: float = Field(8.0, ge=0, le=600)
    #: The longest server-requested wait (retry-after) that is honoured; longer means give up.
    max_retry_after: float = Field(60.0, ge=0, le=3600)
    #: Give up when the next attempt would start later than this after the first one.
    total_timeout: float = Field(300.0, gt=0, le=86400)


class TruncationConfig(_Settings):
    #: Tokens the model accepts; None means the provider's known value, else 128k.
    context_window: int | None = Field(None, gt=0)
    #: Tokens kept free for the reply.
    reserve_tokens: int = Field(4096, ge=0)
    #: The newest messages always kept (besides the system prompt and first user message).
    min_recent_messages: int = Field(4, ge=1)


class SessionConfig(_Settings):
    #: Where sessions live, relative to the workspace root (or absolute).
    folder: str = ".agent-lsp/sessions"
    #: Delete sessions older than this many days (never the active one); None keeps them all.
    max_age_days: float | None = Field(None, gt=0)
    #: Keep at most this many sessions (newest first, never the active one); None keeps all.
    max_count: int | None = Field(None, gt=0)


class CheckpointConfig(_Settings):
    """Checkpoints of the workspace's files before each turn's changes (docs/sessions.md)."""

    enabled: bool = True
    #: Space the workspace's checkpoints may use; the oldest are evicted first.
    quota_mb: float = Field(300, gt=0)
    #: Files above this are not snapshotted around commands (reported as skipped).
    max_file_kb: float = Field(1024, gt=0)
    #: Binary files above this are not snapshotted around commands (reported as skipped).
    max_binary_kb: float = Field(256, ge=0)
    #: The command snapshot gives up (and says so) past this many files...
    scan_max_files: int = Field(200_000, ge=1)
    #: ... or after this many seconds; the command still runs.
    scan_seconds: float = Field(20.0, gt=0)


class ApprovalConfig(_Settings):
    """Per-tool policy. Reading is always allowed; edits, commands and MCP tools ask by default."""

    edit_file: ApprovalMode = "ask"
    run_command: ApprovalMode = "ask"
    #: Every tool of every MCP server (read-only hints from a server change nothing).
    mcp: ApprovalMode = "ask"
    #: Per MCP server, the tools (their own names, or ``*``) that run without asking when
    #: ``mcp`` is ``ask``. Only the user's settings can hold this, never a workspace file.
    mcp_allow: dict[str, list[str]] = Field(default_factory=dict)


class McpServerSetting(_Settings):
    """One MCP server in the ``mcpServers`` setting: a program (``command``, ``args``, ``env``,
    ``cwd``) spoken to over stdio, or a streamable HTTP endpoint (``url``, ``headers``)."""

    #: ``stdio`` or ``http``; default: ``http`` when ``url`` is given, else ``stdio``.
    type: Literal["stdio", "http"] | None = None
    command: str | None = Field(None, min_length=1)
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = Field(None, min_length=1)
    headers: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerSetting:
        kind = self.type or ("http" if self.url else "stdio")
        if kind == "stdio" and not self.command:
            raise ValueError("a stdio MCP server needs a command")
        if kind == "http" and not self.url:
            raise ValueError("an HTTP MCP server needs a url")
        return self


class McpConfig(_Settings):
    """How MCP servers are run (the servers themselves are ``mcpServers`` and workspace files)."""

    #: Names of servers never started, whichever source lists them.
    disabled: list[str] = Field(default_factory=list)
    #: Seconds a server has to start and answer ``initialize`` and ``tools/list``.
    start_timeout: float = Field(30.0, gt=0, le=600)
    #: Seconds one MCP tool call may take before it is abandoned (the server is told to cancel).
    call_timeout: float = Field(120.0, gt=0, le=86400)
    #: Read the workspace's ``.mcp.json`` and ``.vscode/mcp.json`` (their servers still need the
    #: user's trust before they start).
    workspace_files: bool = True


class CommandLimitsConfig(_Settings):
    """Limits on every process a ``run_command`` starts; 0 means no limit (see docs/tools.md)."""

    #: Processes (and threads) the command may start: the cgroup's pids.max where that controller
    #: is available, else RLIMIT_NPROC set to the user's running tasks plus this many.
    max_processes: int = Field(1024, ge=0)
    #: Address space of each process, in MB (RLIMIT_AS; also the cgroup's memory.max if available).
    max_memory_mb: int = Field(8192, ge=0)
    #: The largest file a process may write, in MB (RLIMIT_FSIZE).
    max_file_mb: int = Field(4096, ge=0)


class AgentConfig(_Settings):
    provider: ProviderName | None = None
    model: str | None = None
    base_url: str | None = None
    #: Name of the environment variable holding the API key (default: the provider's usual one).
    api_key_env: str | None = None
    #: Which embedded model the local provider runs; None: the first installed, the default first.
    local_model: LocalModelName | None = None
    #: Turn a reply that is only a JSON tool call (bare, fenced or in <tool_call> tags) into a real
    #: call. None: on for the local provider, off for other servers.
    text_tool_calls: bool | None = None
    max_tokens: int = Field(4096, gt=0)
    #: Seconds without a byte from the provider before the read is treated as a timeout.
    read_timeout: float = Field(120.0, gt=0)
    max_rounds: int = Field(25, ge=1)
    command_timeout: float = Field(120.0, gt=0)
    command_limits: CommandLimitsConfig = Field(default_factory=CommandLimitsConfig)
    #: Seconds a search_text call may take; then it stops with what it found (a pattern like
    #: ``(a+)+$`` can take exponential time on one line).
    search_timeout: float = Field(10.0, gt=0, le=600)
    #: Characters of command output returned to the model (head and tail kept).
    output_cap: int = Field(30000, ge=1000)
    #: Seconds an editor may take to answer an approval question; no answer is a rejection.
    approval_timeout: float = Field(600.0, gt=0)
    #: Seconds an editor may take to apply an edit (``workspace/applyEdit``); then it failed.
    edit_timeout: float = Field(60.0, gt=0)
    system_prompt: str | None = None
    retry: RetryConfig = Field(default_factory=RetryConfig)
    truncation: TruncationConfig = Field(default_factory=TruncationConfig)
    sessions: SessionConfig = Field(default_factory=SessionConfig)
    checkpoints: CheckpointConfig = Field(default_factory=CheckpointConfig)
    approval: ApprovalConfig = Field(default_factory=ApprovalConfig)
    #: MCP servers from the user's own settings: ``{name: {command, args, env, cwd} | {url, headers}}``.
    mcp_servers: dict[str, McpServerSetting] = Field(default_factory=dict)
    mcp: McpConfig = Field(default_factory=McpConfig)
    #: Ghost-text completions (their own model and server, see agent_core.completion).
    completion: CompletionConfig = Field(default_factory=CompletionConfig)

    def key_env_names(self) -> set[str]:
        """Every environment variable an API key may be read from under these settings (commands
        the agent runs never see them; MCP servers only when the user's own settings pass one)."""
        names = set(DEFAULT_KEY_ENVS.values())
        if self.api_key_env:
            names.add(self.api_key_env)
        return names


class ConfigError(AgentError):
    """A setting is missing or wrong; the message says which one and how to fix it."""
