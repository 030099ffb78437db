/**
 * The extension's settings and how they become the server's settings.
 *
 * package.json declares every `agent.*` setting; this module is the one place that knows which of
 * them belong to the server (sent as `initializationOptions` and answered to
 * `workspace/configuration`) and which only tell the extension how to launch it (`agent.server.*`,
 * which the server's strict schema would reject). Only values the user actually set are sent, so
 * the server's own defaults stay the single source of truth. Pure: no `vscode` import, so unit
 * tests run in plain Node.
 *
 * A repository's `.vscode/settings.json` must not decide trust, where the API key goes, or which
 * program runs. The settings that do (`USER_ONLY_KEYS`) are declared `application` or `machine`
 * scope in package.json, and since an older VS Code or another host may still hand out workspace
 * values, they are read here from the user's own (global) value only; a workspace or folder value
 * is ignored and reported by `ignoredWorkspaceKeys`, so the extension can say so once.
 */
import type { LaunchSettings } from './serverLaunch';

/** Settings keys (below `agent.`) that the server understands, camelCase, dotted for nesting. */
export const SERVER_KEYS: readonly string[] = [
  'provider',
  'model',
  'localModel',
  'textToolCalls',
  'baseUrl',
  'apiKeyEnv',
  'maxTokens',
  'readTimeout',
  'maxRounds',
  'commandTimeout',
  'commandLimits.maxProcesses',
  'commandLimits.maxMemoryMb',
  'commandLimits.maxFileMb',
  'searchTimeout',
  'approvalTimeout',
  'editTimeout',
  'outputCap',
  'systemPrompt',
  'retry.maxAttempts',
  'retry.initialDelay',
  'retry.maxDelay',
  'retry.maxRetryAfter',
  'retry.totalTimeout',
  'truncation.contextWindow',
  'truncation.reserveTokens',
  'truncation.minRecentMessages',
  'sessions.folder',
  'sessions.maxAgeDays',
  'sessions.maxCount',
  'checkpoints.enabled',
  'checkpoints.quotaMb',
  'checkpoints.maxFileKb',
  'checkpoints.maxBinaryKb',
  'approval.editFile',
  'approval.runCommand',
  'approval.mcp',
  'approval.mcpAllow',
  'mcpServers',
  'mcp.disabled',
  'mcp.startTimeout',
  'mcp.callTimeout',
  'mcp.workspaceFiles',
  'completion.enabled',
  'completion.source',
  'completion.model',
  'completion.baseUrl',
  'completion.apiKeyEnv',
  'completion.endpoint',
  'completion.family',
  'completion.prefixLines',
  'completion.suffixLines',
  'completion.maxTokens',
  'completion.timeBudgetMs',
  'completion.debounceMs',
  'completion.timeout',
  'completion.ringChunks',
  'completion.ringChunkLines',
];

/** Settings keys that only change how the server process is launched: a change restarts it. */
export const LAUNCH_KEYS: readonly string[] = ['server.path', 'server.pythonPath'];

/**
 * Settings only the user may set: approvals, command limits and checkpoints (trust: a repository
 * must not switch off or starve the undo of what the agent does in it), `baseUrl` and `apiKeyEnv`
 * (where the key is sent and which key), where transcripts are written, the server program, and
 * the MCP servers (programs; a workspace's own MCP config goes through the trust question instead).
 * Workspace and folder values of these are ignored.
 */
export const USER_ONLY_KEYS: readonly string[] = [
  'approval.editFile',
  'approval.runCommand',
  'approval.mcp',
  'approval.mcpAllow',
  'mcpServers',
  'commandLimits.maxProcesses',
  'commandLimits.maxMemoryMb',
  'commandLimits.maxFileMb',
  'checkpoints.enabled',
  'checkpoints.quotaMb',
  'checkpoints.maxFileKb',
  'checkpoints.maxBinaryKb',
  'sessions.folder',
  'baseUrl',
  'apiKeyEnv',
  'server.path',
  'server.pythonPath',
];

/** The part of `vscode.WorkspaceConfiguration` this module needs (so tests can pass a plain map). */
export interface SettingsSource {
  inspect(key: string):
    | {
        globalValue?: unknown;
        workspaceValue?: unknown;
        workspaceFolderValue?: unknown;
      }
    | undefined;
}

/** A JSON object as the server receives it. */
export type ServerSettings = { [key: string]: unknown };

const isSet = (value: unknown): boolean => value !== undefined && value !== null && value !== '';

/**
 * The value set for `key` (folder beats workspace beats user), or undefined if none. For a
 * `USER_ONLY_KEYS` key only the user's own value counts.
 */
export function explicitValue(source: SettingsSource, key: string): unknown {
  const info = source.inspect(key);
  if (!info) {
    return undefined;
  }
  const candidates = USER_ONLY_KEYS.includes(key)
    ? [info.globalValue]
    : [info.workspaceFolderValue, info.workspaceValue, info.globalValue];
  return candidates.find(isSet);
}

/** The `USER_ONLY_KEYS` a workspace or folder tried to set (and that are therefore ignored). */
export function ignoredWorkspaceKeys(source: SettingsSource): string[] {
  return USER_ONLY_KEYS.filter((key) => {
    const info = source.inspect(key);
    return info !== undefined && (isSet(info.workspaceValue) || isSet(info.workspaceFolderValue));
  });
}

/** The notice shown (once) when a workspace tried to set user-only settings. */
export function ignoredNotice(keys: readonly string[]): string {
  const names = keys.map((key) => `agent.${key}`).join(', ');
  return (
    `Agent: ignored ${names} from this workspace's settings. Settings that decide approvals, where ` +
    'your API key is sent, or which program runs are only read from your user settings.'
  );
}

/** The launch settings (`agent.server.*`), from the user's own settings only. */
export function launchSettings(source: SettingsSource): LaunchSettings {
  const text = (key: string): string | undefined => {
    const value = explicitValue(source, key);
    return typeof value === 'string' ? value : undefined;
  };
  return { path: text('server.path'), pythonPath: text('server.pythonPath') };
}

/**
 * The server's settings object, nested (`{retry: {maxAttempts: 5}}`), holding only what the user
 * set. Empty strings and nulls mean "not set" (VS Code's settings UI clears a field to "").
 */
export function toServerSettings(source: SettingsSource): ServerSettings {
  const settings: ServerSettings = {};
  for (const key of SERVER_KEYS) {
    const value = explicitValue(source, key);
    if (value === undefined) {
      continue;
    }
    const parts = key.split('.');
    let target = settings;
    for (const part of parts.slice(0, -1)) {
      if (typeof target[part] !== 'object' || target[part] === null) {
        target[part] = {};
      }
      target = target[part] as ServerSettings;
    }
    target[parts[parts.length - 1]] = value;
  }
  return settings;
}

/** What a settings change requires: a restart (launch settings), a notification, or nothing. */
export type ChangeAction = 'restart' | 'notify' | 'none';

/** Decide from `affects(section)` (VS Code's `ConfigurationChangeEvent.affectsConfiguration`). */
export function changeAction(affects: (section: string) => boolean): ChangeAction {
  if (LAUNCH_KEYS.some((key) => affects(`agent.${key}`))) {
    return 'restart';
  }
  return SERVER_KEYS.some((key) => affects(`agent.${key}`)) ? 'notify' : 'none';
}
