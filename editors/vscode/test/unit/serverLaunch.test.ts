/** Finding the server: explicit path, then Python interpreter, then PATH; clear errors otherwise. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expandPath, resolveServerCommand, ServerNotFoundError } from '../../src/serverLaunch';

const files = new Set(['/ws/.venv/bin/python', '/usr/local/bin/agent-lsp', '/opt/tools/agent-lsp', '/home/me/bin/python3']);
const exists = (file: string): boolean => files.has(file);
const env = { PATH: '/usr/bin:/usr/local/bin', HOME: '/home/me' };

test('agent.server.path wins and is used as the executable', () => {
  const command = resolveServerCommand({ path: '/opt/tools/agent-lsp', pythonPath: '/ws/.venv/bin/python' }, env, '/ws', exists);
  assert.deepEqual(command, { command: '/opt/tools/agent-lsp', args: [], description: '/opt/tools/agent-lsp' });
});

test('agent.server.pythonPath runs the server as a module, with ${workspaceFolder} expanded', () => {
  const command = resolveServerCommand({ pythonPath: '${workspaceFolder}/.venv/bin/python' }, env, '/ws', exists);
  assert.equal(command.command, '/ws/.venv/bin/python');
  assert.deepEqual(command.args, ['-m', 'lsp_server']);
});

test('a relative interpreter path is resolved against the workspace folder, ~ against HOME', () => {
  assert.equal(expandPath('.venv/bin/python', '/ws', '/home/me'), '/ws/.venv/bin/python');
  assert.equal(expandPath('~/bin/python3', '/ws', '/home/me'), '/home/me/bin/python3');
});

test('a bare command name is looked up on PATH', () => {
  assert.equal(resolveServerCommand({ path: 'agent-lsp' }, env, '/ws', exists).command, '/usr/local/bin/agent-lsp');
  assert.equal(resolveServerCommand({}, env, undefined, exists).command, '/usr/local/bin/agent-lsp');
});

test('a missing file names the setting to fix', () => {
  assert.throws(
    () => resolveServerCommand({ pythonPath: '/nope/python' }, env, '/ws', exists),
    (error: Error) => error instanceof ServerNotFoundError && error.message.includes('agent.server.pythonPath') && error.message.includes('/nope/python'),
  );
});

test('no server anywhere explains how to install or configure one', () => {
  assert.throws(
    () => resolveServerCommand({ path: '  ', pythonPath: null }, { PATH: '/usr/bin' }, '/ws', exists),
    (error: Error) => error instanceof ServerNotFoundError && /pip install agent-lsp/.test(error.message) && /agent\.server\.path/.test(error.message),
  );
});
