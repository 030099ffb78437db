/**
 * The extension's settings and how they become the server's settings.
 *
 * package.json declares every `agent.*` setting; this module is the one place that knows which of
 * them belong to the server (sent as `initializationOptions` and answered to
 * `workspace/configuration`) and which only tell the extension how to launch it (`agent.server.*`,
 * which the server's strict schema would reject). Only values the user actually set are sent, so
 * the server's own defaults stay the single source of truth. Pure: no `vscode` import, so unit
 * tests run in plain Node.
 */

/** Settings keys (below `agent.`) that the server understands, camelCase, dotted for nesting. */
export const SERVER_KEYS: readonly string[] = [
  'provider',
  'model',
  'baseUrl',
  'apiKeyEnv',
  'maxTokens',
  'readTimeout',
  'maxRounds',
  'commandTimeout',
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
  'approval.editFile',
  'approval.runCommand',
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

/** The value the user set for `key` (folder beats workspace beats user), or undefined if none. */
export function explicitValue(source: SettingsSource, key: string): unknown {
  const info = source.inspect(key);
  if (!info) {
    return undefined;
  }
  for (const value of [info.workspaceFolderValue, info.workspaceValue, info.globalValue]) {
    if (value !== undefined && value !== null && value !== '') {
      return value;
    }
  }
  return undefined;
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
