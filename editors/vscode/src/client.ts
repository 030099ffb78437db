/**
 * The language client: starts the `agent-lsp` server, keeps it configured, and is the one door
 * for commands (`workspace/executeCommand`) and notifications.
 *
 * A fresh `LanguageClient` is created on every (re)start so that no handler or feature state
 * survives from a dead server. Settings go out as `initializationOptions`, are answered to
 * `workspace/configuration` from the same mapping (never VS Code's raw `agent` section, whose
 * launch-only keys the server's strict schema would reject), and are pushed with
 * `workspace/didChangeConfiguration` on change.
 */
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import {
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  State,
  type StaticFeature,
} from 'vscode-languageclient/node';
import {
  Commands,
  Notifications,
  PermissionRequestMethod,
  type PermissionRequest,
  type PermissionResponse,
  parseInlineEditProposal,
  parseNotice,
  parsePermissionRequest,
  parseRetry,
  parseSessionRestored,
  parseTextDelta,
  parseToolCall,
  parseTurnEnded,
  parseTurnStarted,
  type SessionRestored,
} from './protocol';
import { resolveServerCommand, ServerNotFoundError } from './serverLaunch';
import { ignoredNotice, ignoredWorkspaceKeys, launchSettings, toServerSettings, type ServerSettings, type SettingsSource } from './settings';
import type { TurnRouter } from './turns';

/** What the client needs from the rest of the extension. */
export interface ClientHooks {
  router: TurnRouter;
  sessionRestored(event: SessionRestored): void;
  requestPermission(request: PermissionRequest): Promise<PermissionResponse>;
  /** The server's `agent.inlineEdit` run from one of its code actions (needs our UI). */
  inlineEditCommand(argument: unknown): Promise<void>;
  runningChanged(running: boolean): void;
  /** The server read the settings again (after a change): what it reports may have changed. */
  settingsRead(): void;
}

/** Declares `capabilities.experimental.agentLsp.permissionRequest` so the server asks us, not showMessageRequest. */
class AgentCapabilities implements StaticFeature {
  fillClientCapabilities(capabilities: { experimental?: unknown }): void {
    const experimental = (capabilities.experimental ?? {}) as Record<string, unknown>;
    experimental.agentLsp = { permissionRequest: true };
    capabilities.experimental = experimental;
  }
  initialize(): void {}
  getState(): { kind: 'static' } {
    return { kind: 'static' };
  }
  clear(): void {}
}

/** The value of a dotted section ("agent.retry") within the server settings object. */
function sectionValue(settings: ServerSettings, section: string | undefined): unknown {
  const parts = (section ?? 'agent').split('.');
  if (parts[0] !== 'agent') {
    return null;
  }
  let value: unknown = settings;
  for (const part of parts.slice(1)) {
    value = typeof value === 'object' && value !== null ? (value as ServerSettings)[part] ?? null : null;
  }
  return value;
}

export class AgentClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<void> | undefined;
  /** User-only settings a workspace tried to set, already reported (said once per window). */
  private readonly ignoredReported = new Set<string>();

  constructor(
    private readonly output: vscode.LogOutputChannel,
    private readonly hooks: ClientHooks,
  ) {}

  get running(): boolean {
    return this.client?.state === State.Running;
  }

  /** Start the server unless it runs; errors are shown to the user with what to do. */
  start(): Promise<void> {
    if (!this.starting) {
      this.starting = this.doStart().finally(() => {
        this.starting = undefined;
      });
    }
    return this.starting;
  }

  private async doStart(): Promise<void> {
    if (this.client) {
      return;
    }
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    let serverOptions: ServerOptions;
    try {
      const command = resolveServerCommand(
        launchSettings(this.configuration()),
        process.env,
        folder,
        (file) => fs.existsSync(file),
      );
      this.output.info(`Starting the agent server: ${command.description}`);
      serverOptions = { command: command.command, args: command.args, options: { cwd: folder, env: process.env } };
    } catch (error) {
      if (error instanceof ServerNotFoundError) {
        this.showStartError(error.message);
        return;
      }
      throw error;
    }
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
      outputChannel: this.output,
      initializationOptions: this.currentSettings(),
      middleware: {
        // Code actions run `agent.inlineEdit` as a VS Code command: ask for the instruction and
        // show the diff, instead of sending it to the server bare.
        executeCommand: (command, args, next): unknown =>
          command === Commands.inlineEdit ? this.hooks.inlineEditCommand(args[0]) : next(command, args),
        workspace: {
          configuration: (params) => {
            // After the answer has gone out (the server applies it when it arrives).
            setTimeout(() => this.hooks.settingsRead(), 0);
            return params.items.map((item) =>
              sectionValue(this.currentSettings(item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined), item.section),
            );
          },
        },
      },
    };
    const client = new LanguageClient('agentLsp', 'Agent LSP', serverOptions, clientOptions);
    client.registerFeature(new AgentCapabilities());
    this.wire(client);
    client.onDidChangeState((event) => {
      const running = event.newState === State.Running;
      if (!running) {
        this.hooks.router.reset();
      }
      this.hooks.runningChanged(running);
    });
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      this.client = undefined;
      await client.dispose().catch(() => undefined);
      this.showStartError(`The agent server failed to start: ${messageOf(error)}`);
    }
  }

  /** The server settings for a folder (its folder-level settings win) or for the whole window. */
  private currentSettings(scope?: vscode.Uri): ServerSettings {
    return toServerSettings(this.configuration(scope));
  }

  /** The `agent` settings; a user-only setting a workspace tried to set is reported once. */
  private configuration(scope?: vscode.Uri): SettingsSource {
    const configuration = vscode.workspace.getConfiguration('agent', scope);
    const ignored = ignoredWorkspaceKeys(configuration).filter((key) => !this.ignoredReported.has(key));
    if (ignored.length > 0) {
      ignored.forEach((key) => this.ignoredReported.add(key));
      const notice = ignoredNotice(ignored);
      this.output.warn(notice);
      void vscode.window.showWarningMessage(notice, 'Open User Settings').then((choice) => {
        if (choice) {
          void vscode.commands.executeCommand('workbench.action.openSettings', 'agent.');
        }
      });
    }
    return configuration;
  }

  private showStartError(message: string): void {
    this.output.error(message);
    void vscode.window.showErrorMessage(message, 'Open Settings', 'Show Log').then((choice) => {
      if (choice === 'Open Settings') {
        void vscode.commands.executeCommand('workbench.action.openSettings', 'agent.server');
      } else if (choice === 'Show Log') {
        this.output.show();
      }
    });
  }

  /** Route each protocol notification through its parser; a bad payload is logged and dropped. */
  private wire(client: LanguageClient): void {
    const router = this.hooks.router;
    const on = <T>(method: string, parse: (value: unknown) => T, handle: (event: T) => void): void => {
      client.onNotification(method, (params: unknown) => {
        let event: T;
        try {
          event = parse(params);
        } catch (error) {
          this.output.warn(`Ignored a malformed ${method} notification: ${messageOf(error)}`);
          return;
        }
        try {
          handle(event);
        } catch (error) {
          this.output.error(`Handling ${method} failed: ${messageOf(error)}`);
        }
      });
    };
    on(Notifications.turnStarted, parseTurnStarted, (e) => router.turnStarted(e));
    on(Notifications.textDelta, parseTextDelta, (e) => router.textDelta(e));
    on(Notifications.toolCall, parseToolCall, (e) => router.toolCall(e));
    on(Notifications.retry, parseRetry, (e) => router.retry(e));
    on(Notifications.notice, parseNotice, (e) => router.notice(e));
    on(Notifications.inlineEditProposal, parseInlineEditProposal, (e) => router.proposal(e));
    on(Notifications.turnEnded, parseTurnEnded, (e) => router.turnEnded(e));
    on(Notifications.sessionRestored, parseSessionRestored, (e) => this.hooks.sessionRestored(e));
    client.onRequest(PermissionRequestMethod, async (params: unknown) => {
      try {
        return await this.hooks.requestPermission(parsePermissionRequest(params));
      } catch (error) {
        this.output.warn(`Permission request rejected: ${messageOf(error)}`);
        return { decision: 'reject', reason: messageOf(error) } satisfies PermissionResponse;
      }
    });
  }

  async stop(): Promise<void> {
    await this.starting;
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.stop(3000);
      } catch (error) {
        this.output.warn(`Stopping the server: ${messageOf(error)}`);
      }
      await client.dispose().catch(() => undefined);
    }
  }

  async restart(): Promise<void> {
    this.output.info('Restarting the agent server');
    await this.stop();
    await this.start();
  }

  /** Tell a running server that settings changed. */
  pushSettings(): void {
    if (this.client && this.running) {
      const settings = this.currentSettings();
      void this.client.sendNotification('workspace/didChangeConfiguration', { settings }).then(() =>
        this.output.info(`Settings changed; sent to the server: ${Object.keys(settings).join(', ') || '(defaults)'}`),
      );
    }
  }

  /**
   * Run a server command (`agent.chat`, ...); rejects with a readable message. The result is the
   * server's untrusted JSON: callers check it with the command's `parse*` from protocol.ts.
   */
  async execute(command: string, argument: object = {}): Promise<unknown> {
    if (!this.client || !this.running) {
      await this.start();
    }
    if (!this.client || !this.running) {
      throw new Error('The agent server is not running. See "Agent: Show Server Log", then run "Agent: Restart Server".');
    }
    try {
      const result: unknown = await this.client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [argument] });
      return result;
    } catch (error) {
      throw new Error(messageOf(error), { cause: error });
    }
  }

  dispose(): void {
    void this.stop();
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
