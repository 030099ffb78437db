/**
 * The agent-lsp editor protocol (docs/protocol.md) as TypeScript types, plus checks that turn
 * untrusted notification params and command results into those types.
 *
 * The server is a separate process and may be a different version; a malformed payload must be
 * logged and dropped (a malformed command result fails that command with a readable message),
 * never crash the extension or corrupt the chat view, so every notification and every command
 * result goes through `parse*` before anything uses it. Pure (no `vscode` import).
 */

export const Commands = {
  chat: 'agent.chat',
  inlineEdit: 'agent.inlineEdit',
  inlineEditAccept: 'agent.inlineEdit.accept',
  inlineEditReject: 'agent.inlineEdit.reject',
  cancel: 'agent.cancel',
  sessionList: 'agent.session.list',
  sessionLoad: 'agent.session.load',
  sessionNew: 'agent.session.new',
  sessionSave: 'agent.session.save',
  sessionRename: 'agent.session.rename',
  sessionDelete: 'agent.session.delete',
  sessionExport: 'agent.session.export',
  status: 'agent.status',
  completionAccepted: 'agent.completion.accepted',
  checkpointList: 'agent.checkpoint.list',
  checkpointDiff: 'agent.checkpoint.diff',
  checkpointRestore: 'agent.checkpoint.restore',
  checkpointUndo: 'agent.checkpoint.undo',
} as const;

export const Notifications = {
  turnStarted: 'agent/turnStarted',
  textDelta: 'agent/textDelta',
  toolCall: 'agent/toolCall',
  retry: 'agent/retry',
  notice: 'agent/notice',
  inlineEditProposal: 'agent/inlineEditProposal',
  turnEnded: 'agent/turnEnded',
  sessionRestored: 'agent/sessionRestored',
} as const;

export const PermissionRequestMethod = 'agent/requestPermission';

export interface Position {
  line: number;
  character: number;
}
export interface Range {
  start: Position;
  end: Position;
}

export interface SessionInfo {
  id: string;
  title: string;
  created: number;
  updated: number;
  messageCount: number;
  preview: string;
}

export interface ToolCallInfo {
  id: string;
  name: string;
  arguments: unknown;
}

export interface Message {
  id: string;
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  toolCalls: ToolCallInfo[];
  toolCallId?: string | null;
  name?: string | null;
  isError: boolean;
  interrupted: boolean;
  kind: string;
  created: number;
}

export interface TurnStarted {
  turnId: string;
  kind: 'chat' | 'inlineEdit';
  prompt: string;
}
export interface TextDelta {
  turnId: string;
  text: string;
}
export interface ToolCallEvent {
  turnId: string;
  id: string;
  name: string;
  status: 'started' | 'running' | 'finished';
  arguments?: unknown;
  output?: string;
  isError?: boolean;
}
export interface RetryEvent {
  turnId: string;
  attempt: number;
  maxAttempts: number;
  delay: number;
  reason: string;
}
export interface NoticeEvent {
  turnId?: string;
  level: 'info' | 'warning' | 'error';
  text: string;
}
export interface InlineEditProposal {
  turnId: string;
  uri: string;
  range: Range;
  newText: string;
}
export interface TurnEndedEvent {
  turnId: string;
  stopReason: string;
  usage: { inputTokens: number; outputTokens: number };
  error?: string | null;
}
export interface SessionRestored {
  session: SessionInfo;
  transcript: Message[];
}
export interface PermissionRequest {
  turnId: string;
  tool: string;
  title: string;
  detail: string;
}
export type PermissionDecision = 'allow_once' | 'allow_session' | 'reject';
export interface PermissionResponse {
  decision: PermissionDecision;
  reason?: string;
}

/** The approval dialog's buttons, in the order shown ("allow once" first: the safe default). */
export const ALLOW_ONCE = 'Allow once';
export const ALLOW_SESSION = 'Allow for this session';
export const REJECT = 'Reject';

/** Map the approval dialog's button (undefined: dismissed) to the protocol decision. */
export function decisionFor(choice: string | undefined): PermissionDecision {
  if (choice === ALLOW_ONCE) {
    return 'allow_once';
  }
  return choice === ALLOW_SESSION ? 'allow_session' : 'reject';
}

/** `context` argument of `agent.chat`. */
export interface ChatContext {
  uri?: string;
  range?: Range;
  text?: string;
  diagnostics?: string[];
}

/** A payload that does not match the protocol; the message names the field. */
export class ProtocolError extends Error {}

// The field checks below are shared with the other protocol modules (checkpointProtocol.ts).
export type Obj = Record<string, unknown>;

export function object(value: unknown, what: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError(`${what}: expected an object`);
  }
  return value as Obj;
}

export function str(o: Obj, key: string, what: string, fallback?: string): string {
  const value = o[key];
  if (typeof value === 'string') {
    return value;
  }
  if (fallback !== undefined && (value === undefined || value === null)) {
    return fallback;
  }
  throw new ProtocolError(`${what}: "${key}" must be a string`);
}

export function num(o: Obj, key: string, what: string, fallback?: number): number {
  const value = o[key];
  if (typeof value === 'number' && Number.isFinite(value)) {
    return value;
  }
  if (fallback !== undefined && (value === undefined || value === null)) {
    return fallback;
  }
  throw new ProtocolError(`${what}: "${key}" must be a number`);
}

export function oneOf<T extends string>(o: Obj, key: string, allowed: readonly T[], what: string, fallback?: T): T {
  const value = o[key];
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) {
    return value as T;
  }
  if (fallback !== undefined) {
    return fallback;
  }
  throw new ProtocolError(`${what}: "${key}" must be one of ${allowed.join(', ')}`);
}

function position(value: unknown, what: string): Position {
  const o = object(value, what);
  return { line: num(o, 'line', what), character: num(o, 'character', what) };
}

export function parseRange(value: unknown, what = 'range'): Range {
  const o = object(value, what);
  return { start: position(o.start, `${what}.start`), end: position(o.end, `${what}.end`) };
}

export function parseSessionInfo(value: unknown, what = 'session'): SessionInfo {
  const o = object(value, what);
  return {
    id: str(o, 'id', what),
    title: str(o, 'title', what, ''),
    created: num(o, 'created', what, 0),
    updated: num(o, 'updated', what, 0),
    messageCount: num(o, 'messageCount', what, 0),
    preview: str(o, 'preview', what, ''),
  };
}

export function parseMessage(value: unknown, what = 'message'): Message {
  const o = object(value, what);
  const calls = Array.isArray(o.toolCalls) ? o.toolCalls : [];
  return {
    id: str(o, 'id', what, ''),
    role: oneOf(o, 'role', ['system', 'user', 'assistant', 'tool'] as const, what),
    content: str(o, 'content', what, ''),
    toolCalls: calls.map((call, i) => {
      const c = object(call, `${what}.toolCalls[${i}]`);
      return { id: str(c, 'id', what, ''), name: str(c, 'name', what), arguments: c.arguments ?? {} };
    }),
    toolCallId: typeof o.toolCallId === 'string' ? o.toolCallId : null,
    name: typeof o.name === 'string' ? o.name : null,
    isError: o.isError === true,
    interrupted: o.interrupted === true,
    kind: str(o, 'kind', what, 'chat'),
    created: num(o, 'created', what, 0),
  };
}

export function parseTurnStarted(value: unknown): TurnStarted {
  const o = object(value, 'turnStarted');
  return {
    turnId: str(o, 'turnId', 'turnStarted'),
    kind: oneOf(o, 'kind', ['chat', 'inlineEdit'] as const, 'turnStarted', 'chat'),
    prompt: str(o, 'prompt', 'turnStarted', ''),
  };
}

export function parseTextDelta(value: unknown): TextDelta {
  const o = object(value, 'textDelta');
  return { turnId: str(o, 'turnId', 'textDelta'), text: str(o, 'text', 'textDelta') };
}

export function parseToolCall(value: unknown): ToolCallEvent {
  const o = object(value, 'toolCall');
  return {
    turnId: str(o, 'turnId', 'toolCall'),
    id: str(o, 'id', 'toolCall'),
    name: str(o, 'name', 'toolCall', 'tool'),
    status: oneOf(o, 'status', ['started', 'running', 'finished'] as const, 'toolCall'),
    arguments: o.arguments,
    output: typeof o.output === 'string' ? o.output : undefined,
    isError: o.isError === true,
  };
}

export function parseRetry(value: unknown): RetryEvent {
  const o = object(value, 'retry');
  return {
    turnId: str(o, 'turnId', 'retry', ''),
    attempt: num(o, 'attempt', 'retry'),
    maxAttempts: num(o, 'maxAttempts', 'retry'),
    delay: num(o, 'delay', 'retry', 0),
    reason: str(o, 'reason', 'retry', ''),
  };
}

export function parseNotice(value: unknown): NoticeEvent {
  const o = object(value, 'notice');
  return {
    turnId: typeof o.turnId === 'string' ? o.turnId : undefined,
    level: oneOf(o, 'level', ['info', 'warning', 'error'] as const, 'notice', 'info'),
    text: str(o, 'text', 'notice'),
  };
}

export function parseInlineEditProposal(value: unknown): InlineEditProposal {
  const o = object(value, 'inlineEditProposal');
  return {
    turnId: str(o, 'turnId', 'inlineEditProposal'),
    uri: str(o, 'uri', 'inlineEditProposal'),
    range: parseRange(o.range, 'inlineEditProposal.range'),
    newText: str(o, 'newText', 'inlineEditProposal'),
  };
}

export function parseTurnEnded(value: unknown): TurnEndedEvent {
  const o = object(value, 'turnEnded');
  const usage = typeof o.usage === 'object' && o.usage !== null ? (o.usage as Obj) : {};
  return {
    turnId: str(o, 'turnId', 'turnEnded'),
    stopReason: str(o, 'stopReason', 'turnEnded', 'end_turn'),
    usage: {
      inputTokens: num(usage, 'inputTokens', 'turnEnded.usage', 0),
      outputTokens: num(usage, 'outputTokens', 'turnEnded.usage', 0),
    },
    error: typeof o.error === 'string' && o.error ? o.error : null,
  };
}

/** `agent/sessionRestored`, and the same shape answered by `agent.session.load`. */
export function parseSessionRestored(value: unknown, what = 'sessionRestored'): SessionRestored {
  const o = object(value, what);
  const transcript: unknown[] = Array.isArray(o.transcript) ? o.transcript : [];
  return {
    session: parseSessionInfo(o.session),
    transcript: transcript.map((m, i) => parseMessage(m, `transcript[${i}]`)),
  };
}

export function parsePermissionRequest(value: unknown): PermissionRequest {
  const o = object(value, 'requestPermission');
  return {
    turnId: str(o, 'turnId', 'requestPermission', ''),
    tool: str(o, 'tool', 'requestPermission'),
    title: str(o, 'title', 'requestPermission', ''),
    detail: str(o, 'detail', 'requestPermission', ''),
  };
}

/** The turn id a command like `agent.chat` answered with. */
export function parseTurnResult(value: unknown, command: string): string {
  return str(object(value, command), 'turnId', command);
}

/** What `agent.inlineEdit.accept` answered: applied, or why not. */
export type AcceptResult = { applied: true } | { applied: false; reason: string };

export function parseAcceptResult(value: unknown): AcceptResult {
  const what = Commands.inlineEditAccept;
  const o = object(value, what);
  if (typeof o.applied !== 'boolean') {
    throw new ProtocolError(`${what}: "applied" must be true or false`);
  }
  return o.applied ? { applied: true } : { applied: false, reason: str(o, 'reason', what, 'the editor refused it') };
}

/** Whether `agent.cancel` stopped a running turn. */
export function parseCancelResult(value: unknown): boolean {
  const o = object(value, Commands.cancel);
  if (typeof o.cancelled !== 'boolean') {
    throw new ProtocolError(`${Commands.cancel}: "cancelled" must be true or false`);
  }
  return o.cancelled;
}

/** The sessions `agent.session.list` answered with, newest first. */
export function parseSessionList(value: unknown): SessionInfo[] {
  const what = Commands.sessionList;
  const o = object(value, what);
  if (!Array.isArray(o.sessions)) {
    throw new ProtocolError(`${what}: "sessions" must be a list`);
  }
  const sessions: unknown[] = o.sessions;
  return sessions.map((s, i) => parseSessionInfo(s, `${what}.sessions[${i}]`));
}

/** The session answered by `agent.session.new`, `.save` and `.rename`. */
export function parseSessionResult(value: unknown, command: string): SessionInfo {
  return parseSessionInfo(object(value, command).session, `${command}.session`);
}

/** The Markdown answered by `agent.session.export`. */
export function parseExportResult(value: unknown): string {
  return str(object(value, Commands.sessionExport), 'markdown', Commands.sessionExport);
}

/** The answer of `agent.status`, as far as the Status dialog shows it (loose: tests build it by hand). */
export interface StatusResult {
  version?: string;
  provider?: string | null;
  model?: string | null;
  session?: { id?: string; title?: string; messageCount?: number } | null;
  usage?: { inputTokens?: number; outputTokens?: number } | null;
  running?: boolean;
  settingsProblems?: string[] | null;
  mcpServers?: McpServerInfo[] | null;
  mcpProblems?: string[] | null;
  localModel?: LocalModelStatus | null;
  completion?: CompletionStatus | null;
  /** Checkpoints kept for the folder and the space they take (absent from older servers). */
  checkpoints?: { count: number; bytes: number; quotaBytes: number } | null;
}

/** The embedded model in `agent.status` when it is the provider (`state`: not_installed,
 * not_started, verifying, assembling, loading, ready, failed; `reason` for the last and the first). */
export interface LocalModelStatus {
  id: string;
  name: string;
  file: string;
  state: string;
  reason: string | null;
}

/** One configured MCP server in `agent.status`. */
export interface McpServerInfo {
  name: string;
  source: string;
  transport: string;
  state: string;
  tools: number;
  error?: string;
}

function parseMcpServer(value: unknown, what: string): McpServerInfo {
  const o = object(value, what);
  const error = optionalString(o, 'error', what);
  return {
    name: str(o, 'name', what),
    source: str(o, 'source', what, '?'),
    transport: str(o, 'transport', what, ''),
    state: str(o, 'state', what, '?'),
    tools: num(o, 'tools', what, 0),
    ...(error ? { error } : {}),
  };
}

function strings(value: unknown): string[] {
  return (Array.isArray(value) ? value : []).map((p: unknown) => (typeof p === 'string' ? p : JSON.stringify(p)));
}

/** The `completion` part of `agent.status`: where ghost text comes from and how it went. */
export interface CompletionStatus {
  enabled?: boolean;
  source?: string | null;
  model?: string | null;
  endpoint?: string | null;
  state?: string | null;
  reason?: string | null;
  problem?: string | null;
  shown?: number;
  accepted?: number;
}

function parseCompletionStatus(value: unknown, what: string): CompletionStatus | null {
  if (value === undefined || value === null) {
    return null;
  }
  const o = object(value, what);
  return {
    enabled: o.enabled === true,
    source: optionalString(o, 'source', what),
    model: optionalString(o, 'model', what),
    endpoint: optionalString(o, 'endpoint', what),
    state: optionalString(o, 'state', what),
    reason: optionalString(o, 'reason', what),
    problem: optionalString(o, 'problem', what),
    shown: num(o, 'shown', what, 0),
    accepted: num(o, 'accepted', what, 0),
  };
}

export function optionalString(o: Obj, key: string, what: string): string | null {
  const value = o[key];
  if (value === undefined || value === null) {
    return null;
  }
  if (typeof value !== 'string') {
    throw new ProtocolError(`${what}: "${key}" must be a string or null`);
  }
  return value;
}

export function parseStatusResult(value: unknown): StatusResult {
  const what = Commands.status;
  const o = object(value, what);
  const usage = o.usage === undefined || o.usage === null ? null : object(o.usage, `${what}.usage`);
  const servers: unknown[] = Array.isArray(o.mcpServers) ? o.mcpServers : [];
  return {
    version: str(o, 'version', what, '?'),
    provider: optionalString(o, 'provider', what),
    model: optionalString(o, 'model', what),
    session: o.session === undefined || o.session === null ? null : parseSessionInfo(o.session, `${what}.session`),
    usage: usage && {
      inputTokens: num(usage, 'inputTokens', `${what}.usage`, 0),
      outputTokens: num(usage, 'outputTokens', `${what}.usage`, 0),
    },
    running: o.running === true,
    settingsProblems: strings(o.settingsProblems),
    mcpServers: servers.map((server, index) => parseMcpServer(server, `${what}.mcpServers[${index}]`)),
    mcpProblems: strings(o.mcpProblems),
    // Absent from servers older than completions: then the Status dialog does not mention them.
    ...(o.completion === undefined ? {} : { completion: parseCompletionStatus(o.completion, `${what}.completion`) }),
    localModel: o.localModel === undefined || o.localModel === null ? null : parseLocalModel(o.localModel, `${what}.localModel`),
    ...(o.checkpoints === undefined || o.checkpoints === null ? {} : { checkpoints: parseCheckpointSpace(o.checkpoints, `${what}.checkpoints`) }),
  };
}

function parseCheckpointSpace(value: unknown, what: string): { count: number; bytes: number; quotaBytes: number } {
  const o = object(value, what);
  return { count: num(o, 'count', what, 0), bytes: num(o, 'bytes', what, 0), quotaBytes: num(o, 'quotaBytes', what, 0) };
}

function parseLocalModel(value: unknown, what: string): LocalModelStatus {
  const o = object(value, what);
  return {
    id: str(o, 'id', what),
    name: str(o, 'name', what),
    file: str(o, 'file', what),
    state: str(o, 'state', what),
    reason: optionalString(o, 'reason', what),
  };
}

/** The arguments of the server's own `agent.inlineEdit` code actions ("Edit/Fix with agent"). */
export interface InlineEditArguments {
  uri: string;
  range: Range;
  /** Missing or blank: ask the user. */
  instruction?: string;
}

export function parseInlineEditArguments(value: unknown): InlineEditArguments {
  const what = Commands.inlineEdit;
  const o = object(value, what);
  const instruction = optionalString(o, 'instruction', what);
  return {
    uri: str(o, 'uri', what),
    range: parseRange(o.range, `${what}.range`),
    ...(instruction?.trim() ? { instruction } : {}),
  };
}
