/**
 * How the `agent-lsp` server process is found and started.
 *
 * Resolution order: `agent.server.path` (the `agent-lsp` executable), else
 * `agent.server.pythonPath` (`python -m lsp_server`), else `agent-lsp` on PATH. A server that
 * cannot be found is reported up front with what to set, instead of surfacing later as a broken
 * pipe in the output channel. Pure apart from the injected `exists`, so it is unit tested.
 */
import * as path from 'node:path';

/** The launch-only settings (`agent.server.*`). */
export interface LaunchSettings {
  path?: string | null;
  pythonPath?: string | null;
}

/** A resolved command line for the server. */
export interface ServerCommand {
  command: string;
  args: string[];
  /** Human-readable, for the log and error messages. */
  description: string;
}

/** Thrown when no server can be found; the message tells the user which setting fixes it. */
export class ServerNotFoundError extends Error {}

/** Replace `${workspaceFolder}` and a leading `~` so settings can be shared across machines. */
export function expandPath(value: string, workspaceFolder: string | undefined, home: string): string {
  let result = value.trim();
  if (workspaceFolder) {
    result = result.split('${workspaceFolder}').join(workspaceFolder);
  }
  if (result === '~' || result.startsWith('~/')) {
    result = home + result.slice(1);
  }
  if (!path.isAbsolute(result) && result.includes(path.sep) && workspaceFolder) {
    result = path.resolve(workspaceFolder, result);
  }
  return result;
}

/** The first `name` found on a PATH-style string, or undefined. */
export function findOnPath(
  name: string,
  searchPath: string | undefined,
  exists: (file: string) => boolean,
): string | undefined {
  for (const dir of (searchPath ?? '').split(path.delimiter)) {
    if (!dir) {
      continue;
    }
    const candidate = path.join(dir, name);
    if (exists(candidate)) {
      return candidate;
    }
  }
  return undefined;
}

/** Resolve the server command line from the settings (see the module docstring for the order). */
export function resolveServerCommand(
  settings: LaunchSettings,
  env: { readonly [name: string]: string | undefined },
  workspaceFolder: string | undefined,
  exists: (file: string) => boolean,
): ServerCommand {
  const home = env.HOME ?? '';
  const isBare = (value: string): boolean => !value.includes('/') && !value.includes('\\');
  const locate = (value: string, setting: string): string => {
    const expanded = expandPath(value, workspaceFolder, home);
    const found = isBare(expanded) ? findOnPath(expanded, env.PATH, exists) : exists(expanded) ? expanded : undefined;
    if (!found) {
      throw new ServerNotFoundError(`${setting} is "${value}", but no such file exists. Fix the setting or clear it.`);
    }
    return found;
  };
  if (settings.path && settings.path.trim()) {
    const command = locate(settings.path, 'agent.server.path');
    return { command, args: [], description: command };
  }
  if (settings.pythonPath && settings.pythonPath.trim()) {
    const command = locate(settings.pythonPath, 'agent.server.pythonPath');
    return { command, args: ['-m', 'lsp_server'], description: `${command} -m lsp_server` };
  }
  const onPath = findOnPath('agent-lsp', env.PATH, exists);
  if (!onPath) {
    throw new ServerNotFoundError(
      'The agent-lsp server was not found on PATH. Install it (pip install agent-lsp), or set ' +
        '"agent.server.path" to the agent-lsp executable or "agent.server.pythonPath" to a Python that has it.',
    );
  }
  return { command: onPath, args: [], description: onPath };
}
