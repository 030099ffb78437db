/**
 * The real processes an end-to-end test drives: the fake LLM server (Python, from the repo's
 * tests) and code-server, each in its own process group so one kill ends it and everything it
 * started (extension host, agent-lsp server). Everything lives under one temp folder.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

/** The repository root (this file is bundled into editors/vscode/out/test/e2e/). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..', '..');
export const EXTENSION_ROOT = path.join(REPO_ROOT, 'editors', 'vscode');

/** Poll `check` until it returns a value (not undefined/false) or `timeoutMs` passes. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) {
        return value;
      }
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : lastError ? `: ${JSON.stringify(lastError)}` : '';
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${why}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The Python that runs the server and the fake: the repo's .venv if set up, else python3. */
export function python(): string {
  const venv = path.join(REPO_ROOT, '.venv', 'bin', 'python');
  if (existsSync(venv)) {
    return venv;
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'python3');
    if (dir && existsSync(candidate)) {
      return candidate;
    }
  }
  throw new Error('No Python found: run scripts/setup.sh first');
}

/** A process started in its own group, with its output kept for failure messages. */
export class Group {
  readonly output: string[] = [];
  private exited = false;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    const keep = (data: Buffer): void => {
      this.output.push(data.toString());
      if (this.output.length > 400) {
        this.output.splice(0, 100);
      }
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('exit', () => {
      this.exited = true;
    });
  }

  static start(name: string, command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Group {
    const child = spawn(command, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    return new Group(name, child);
  }

  get running(): boolean {
    return !this.exited;
  }

  tail(lines = 40): string {
    return this.output.join('').split('\n').slice(-lines).join('\n');
  }

  /** SIGTERM the whole group, then SIGKILL what is left after a bounded wait. */
  async stop(): Promise<void> {
    if (this.exited || this.child.pid === undefined) {
      return;
    }
    const pid = this.child.pid;
    const signal = (sig: NodeJS.Signals): void => {
      try {
        process.kill(-pid, sig);
      } catch {
        // The group is already gone.
      }
    };
    signal('SIGTERM');
    try {
      await waitFor(`${this.name} to exit`, () => this.exited, 5000);
    } catch {
      signal('SIGKILL');
    }
    signal('SIGKILL');
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The fake LLM server from tests/fakes, as a process, driven over its HTTP control routes. */
export class FakeLLMProcess {
  private constructor(
    private readonly group: Group,
    readonly baseUrl: string,
  ) {}

  static async start(root: string): Promise<FakeLLMProcess> {
    const portFile = path.join(root, 'llm.port');
    const group = Group.start('fake LLM', python(), ['-m', 'tests.fakes.llm_server', '--port-file', portFile], {
      cwd: REPO_ROOT,
      env: { ...process.env, PYTHONPATH: REPO_ROOT },
    });
    const port = await waitFor(`the fake LLM's port file\n${group.tail()}`, () => existsSync(portFile) && readFileSync(portFile, 'utf8').trim(), 15000);
    return new FakeLLMProcess(group, `http://127.0.0.1:${port}`);
  }

  /** Queue responses (see tests/fakes/llm_server.py for their keys). */
  async script(...responses: object[]): Promise<void> {
    const reply = await fetch(`${this.baseUrl}/_script`, { method: 'POST', body: JSON.stringify(responses), headers: { 'content-type': 'application/json' } });
    if (!reply.ok) {
      throw new Error(`scripting the fake LLM failed: ${reply.status} ${await reply.text()}`);
    }
  }

  /** What every request gets once the queue is empty (the fake starts with `{text: 'ok'}`). */
  async setDefault(response: object): Promise<void> {
    const reply = await fetch(`${this.baseUrl}/_script`, {
      method: 'POST',
      body: JSON.stringify({ responses: [], default: response }),
      headers: { 'content-type': 'application/json' },
    });
    if (!reply.ok) {
      throw new Error(`setting the fake LLM's default failed: ${reply.status} ${await reply.text()}`);
    }
  }

  async requests(): Promise<Array<Record<string, unknown>>> {
    const reply = await fetch(`${this.baseUrl}/_requests`);
    return (await reply.json()) as Array<Record<string, unknown>>;
  }

  async release(): Promise<void> {
    await fetch(`${this.baseUrl}/_release`, { method: 'POST', body: '{}' });
  }

  /**
   * Drop every queued response and any stored release (`POST /_reset`), so a scenario that
   * failed before using its script cannot feed the next one. Call it only while no turn runs.
   */
  async reset(): Promise<number> {
    const reply = await fetch(`${this.baseUrl}/_reset`, { method: 'POST', body: '{}' });
    if (!reply.ok) {
      throw new Error(`resetting the fake LLM failed: ${reply.status} ${await reply.text()}`);
    }
    return ((await reply.json()) as { dropped: number }).dropped;
  }

  stop(): Promise<void> {
    return this.group.stop();
  }
}

/** Folders of one code-server profile: user data, extensions, XDG homes, temp. */
export interface Profile {
  root: string;
  userData: string;
  extensions: string;
  env: NodeJS.ProcessEnv;
}

export function makeProfile(root: string, userSettings: object, machineSettings: object): Profile {
  const dirs = ['user-data/User', 'user-data/Machine', 'extensions', 'xdg-config', 'xdg-data', 'xdg-cache', 'tmp', 'home'];
  for (const dir of dirs) {
    mkdirSync(path.join(root, dir), { recursive: true });
  }
  // code-server is a remote window: machine-scoped settings (agent.server.*) are read from the
  // Machine settings, the rest from the User settings.
  writeFileSync(path.join(root, 'user-data', 'Machine', 'settings.json'), JSON.stringify(machineSettings, null, 2));
  writeFileSync(
    path.join(root, 'user-data', 'User', 'settings.json'),
    JSON.stringify(
      {
        'security.workspace.trust.enabled': false,
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'telemetry.telemetryLevel': 'off',
        'update.mode': 'none',
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'chat.disableAIFeatures': true,
        'workbench.enableExperiments': false,
        'files.autoSave': 'off',
        'editor.accessibilitySupport': 'off',
        ...userSettings,
      },
      null,
      2,
    ),
  );
  writeFileSync(path.join(root, 'config.yaml'), 'auth: none\ncert: false\n');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: path.join(root, 'home'),
    XDG_CONFIG_HOME: path.join(root, 'xdg-config'),
    XDG_DATA_HOME: path.join(root, 'xdg-data'),
    XDG_CACHE_HOME: path.join(root, 'xdg-cache'),
    TMPDIR: path.join(root, 'tmp'),
    // The marketplace points at a closed loopback port: nothing may reach the network.
    EXTENSIONS_GALLERY: JSON.stringify({
      serviceUrl: 'http://127.0.0.1:9/gallery',
      itemUrl: 'http://127.0.0.1:9/item',
      resourceUrlTemplate: 'http://127.0.0.1:9/r',
    }),
  };
  return { root, userData: path.join(root, 'user-data'), extensions: path.join(root, 'extensions'), env };
}

function codeServerBin(): string {
  const bin = path.join(REPO_ROOT, '.tools', 'code-server', 'node_modules', '.bin', 'code-server');
  if (!existsSync(bin)) {
    throw new Error('code-server is not installed: run scripts/setup-vscode.sh');
  }
  return bin;
}

/** Install the packaged extension (.vsix) into the profile, as a user would. */
export async function installExtension(profile: Profile, vsix: string): Promise<void> {
  const group = Group.start('install-extension', codeServerBin(), ['--extensions-dir', profile.extensions, '--user-data-dir', profile.userData, '--install-extension', vsix], {
    cwd: profile.root,
    env: profile.env,
  });
  const code = await new Promise<number | null>((resolve) => group.child.on('exit', resolve));
  if (code !== 0) {
    throw new Error(`installing ${vsix} failed (${code}):\n${group.tail()}`);
  }
}

export class CodeServer {
  private constructor(
    private readonly group: Group,
    readonly url: string,
  ) {}

  static async start(profile: Profile): Promise<CodeServer> {
    const port = await freePort();
    const group = Group.start(
      'code-server',
      codeServerBin(),
      [
        '--bind-addr', `127.0.0.1:${port}`,
        '--auth', 'none',
        '--user-data-dir', profile.userData,
        '--extensions-dir', profile.extensions,
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-workspace-trust',
        '--disable-getting-started-override',
        '--ignore-last-opened',
        '--config', path.join(profile.root, 'config.yaml'),
      ],
      { cwd: profile.root, env: profile.env },
    );
    const url = `http://127.0.0.1:${port}`;
    await waitFor(`code-server to answer /healthz\n${group.tail()}`, async () => (await fetch(`${url}/healthz`)).ok, 30000);
    return new CodeServer(group, url);
  }

  get running(): boolean {
    return this.group.running;
  }

  log(): string {
    return this.group.tail(80);
  }

  stop(): Promise<void> {
    return this.group.stop();
  }
}
