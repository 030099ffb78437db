/** Settings mapping: what the server receives, and that package.json declares exactly those settings. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { changeAction, LAUNCH_KEYS, SERVER_KEYS, toServerSettings, type SettingsSource } from '../../src/settings';

type Scopes = { globalValue?: unknown; workspaceValue?: unknown; workspaceFolderValue?: unknown };

function source(values: Record<string, Scopes>): SettingsSource {
  return { inspect: (key) => values[key] ?? {} };
}

test('only settings the user set are sent, nested by their dotted name', () => {
  const settings = toServerSettings(
    source({
      provider: { globalValue: 'openai' },
      baseUrl: { workspaceValue: 'http://127.0.0.1:8080/v1' },
      'retry.maxAttempts': { globalValue: 5 },
      'retry.initialDelay': { workspaceFolderValue: 0.25 },
      'approval.runCommand': { globalValue: 'deny' },
    }),
  );
  assert.deepEqual(settings, {
    provider: 'openai',
    baseUrl: 'http://127.0.0.1:8080/v1',
    retry: { maxAttempts: 5, initialDelay: 0.25 },
    approval: { runCommand: 'deny' },
  });
});

test('folder beats workspace beats user, and null or empty means unset', () => {
  const settings = toServerSettings(
    source({
      model: { globalValue: 'user-model', workspaceValue: 'ws-model', workspaceFolderValue: 'folder-model' },
      apiKeyEnv: { globalValue: 'MY_KEY', workspaceValue: '' },
      'truncation.contextWindow': { globalValue: null },
    }),
  );
  assert.deepEqual(settings, { model: 'folder-model', apiKeyEnv: 'MY_KEY' });
});

test('launch settings never reach the server (its schema rejects unknown keys)', () => {
  const settings = toServerSettings(
    source({ 'server.path': { globalValue: '/opt/agent-lsp' }, 'server.pythonPath': { globalValue: 'python3' } }),
  );
  assert.deepEqual(settings, {});
});

test('package.json declares exactly the server and launch settings', () => {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
    contributes: { configuration: { properties: Record<string, unknown> } };
  };
  const declared = Object.keys(manifest.contributes.configuration.properties).sort();
  const expected = [...SERVER_KEYS, ...LAUNCH_KEYS].map((key) => `agent.${key}`).sort();
  assert.deepEqual(declared, expected);
});

test('a launch setting change restarts, a server setting change notifies, others are ignored', () => {
  assert.equal(changeAction((s) => s === 'agent.server.pythonPath' || s === 'agent.model'), 'restart');
  assert.equal(changeAction((s) => s === 'agent.retry.maxAttempts'), 'notify');
  assert.equal(changeAction((s) => s === 'editor.fontSize'), 'none');
});
