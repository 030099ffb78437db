/**
 * The "Agent: Chat" webview view: the open session's transcript, a prompt box, Stop, and
 * "add selection as context".
 *
 * The transcript model and its HTML live in `transcript.ts`; this module only moves data between
 * the server and the webview (`media/chat.js`): full `reset`s when the view (re)loads or a
 * session is restored, `upsert`s of changed entries while a turn streams. A prompt is cleared
 * from the input only after the server accepted it, so a refused prompt is never lost.
 */
import * as vscode from 'vscode';
import type { AgentClient } from './client';
import { messageOf } from './client';
import {
  Commands,
  parseTurnResult,
  type ChatContext,
  type NoticeEvent,
  type RetryEvent,
  type SessionRestored,
  type TextDelta,
  type ToolCallEvent,
  type TurnEndedEvent,
  type TurnStarted,
} from './protocol';
import { parseCheckpointList } from './checkpointProtocol';
import type { TurnReceiver } from './turns';
import { Transcript } from './transcript';

/** The command the Restore action of a user turn runs, with the checkpoint id. */
export const RESTORE_COMMAND = 'agentLsp.restoreCheckpoint';

/** Messages the webview sends. */
type FromView =
  | { type: 'ready' }
  | { type: 'send'; prompt: string }
  | { type: 'stop' }
  | { type: 'addSelection' }
  | { type: 'clearContext' }
  | { type: 'restore'; id: string };

/** A selection attached to the next prompt, with the label the view shows. */
interface PendingContext {
  label: string;
  context: ChatContext;
}

export class ChatViewProvider implements vscode.WebviewViewProvider, TurnReceiver {
  static readonly viewId = 'agentLsp.chatView';
  private view: vscode.WebviewView | undefined;
  private readonly transcript = new Transcript();
  private pending: PendingContext | undefined;
  private session: SessionRestored['session'] | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly client: AgentClient,
  ) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    view.webview.options = { enableScripts: true, localResourceRoots: [media] };
    view.webview.html = this.html(view.webview, media);
    view.webview.onDidReceiveMessage((message: FromView) => void this.onMessage(message));
    view.onDidDispose(() => {
      this.view = undefined;
    });
  }

  /** Reveal the view and put the cursor in the prompt box. */
  async focus(): Promise<void> {
    await vscode.commands.executeCommand(`${ChatViewProvider.viewId}.focus`);
    void this.post({ type: 'focusInput' });
  }

  /** Attach the active editor's selection (or its current line) as context for the next prompt. */
  async addSelection(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showWarningMessage('Open a file and select some code to add it to the chat.');
      return;
    }
    const selection = editor.selection.isEmpty ? editor.document.lineAt(editor.selection.active.line).range : editor.selection;
    const text = editor.document.getText(selection);
    const diagnostics = vscode.languages
      .getDiagnostics(editor.document.uri)
      .filter((d) => d.range.intersection(selection) !== undefined)
      .map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
    const name = vscode.workspace.asRelativePath(editor.document.uri);
    this.pending = {
      label: `${name}:${selection.start.line + 1}-${selection.end.line + 1}`,
      context: {
        uri: editor.document.uri.toString(),
        range: {
          start: { line: selection.start.line, character: selection.start.character },
          end: { line: selection.end.line, character: selection.end.character },
        },
        text,
        diagnostics,
      },
    };
    await this.focus();
    void this.post({ type: 'context', label: this.pending.label });
  }

  /** A session was restored or switched: show its transcript. */
  sessionRestored(event: SessionRestored): void {
    this.session = event.session;
    this.transcript.restore(event.transcript);
    this.postReset();
    void this.refreshCheckpoints();
  }

  /** Ask the server which turns have a checkpoint and show a Restore action on them. */
  private async refreshCheckpoints(): Promise<void> {
    if (!this.client.running) {
      return;
    }
    try {
      this.update(this.transcript.markCheckpoints(parseCheckpointList(await this.client.execute(Commands.checkpointList))));
    } catch {
      // An older server without checkpoints, or one that stopped: no Restore actions.
    }
  }

  turnStarted(event: TurnStarted): void {
    this.update(this.transcript.turnStarted(event));
  }
  textDelta(event: TextDelta): void {
    this.update(this.transcript.textDelta(event));
  }
  toolCall(event: ToolCallEvent): void {
    this.update(this.transcript.toolCall(event));
  }
  retry(event: RetryEvent): void {
    this.update(this.transcript.retry(event));
  }
  notice(event: NoticeEvent): void {
    this.update(this.transcript.notice(event));
  }
  turnEnded(event: TurnEndedEvent): void {
    this.update(this.transcript.turnEnded(event));
    void this.refreshCheckpoints();
  }

  /** The server stopped: none of its turns is running any more. */
  serverStopped(): void {
    if (!this.transcript.busy) {
      return;
    }
    for (let turnId = this.transcript.runningTurn; turnId !== undefined; turnId = this.transcript.runningTurn) {
      this.transcript.turnEnded({ turnId, stopReason: 'error', usage: { inputTokens: 0, outputTokens: 0 }, error: 'The agent server stopped.' });
    }
    this.postReset();
  }

  private update(ids: string[]): void {
    void this.post({ type: 'upsert', entries: this.transcript.rendered(ids), busy: this.transcript.busy });
  }

  private postReset(): void {
    void this.post({
      type: 'reset',
      entries: this.transcript.rendered(),
      busy: this.transcript.busy,
      context: this.pending?.label ?? null,
      title: this.session?.title ?? '',
    });
  }

  private post(message: object): Thenable<boolean> {
    return this.view ? this.view.webview.postMessage(message) : Promise.resolve(false);
  }

  private async onMessage(message: FromView): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.postReset();
        return;
      case 'send':
        await this.send(message.prompt);
        return;
      case 'stop':
        await this.stop();
        return;
      case 'addSelection':
        await this.addSelection();
        return;
      case 'restore':
        if (typeof message.id === 'string') {
          await vscode.commands.executeCommand(RESTORE_COMMAND, message.id);
        }
        return;
      case 'clearContext':
        this.pending = undefined;
        void this.post({ type: 'context', label: null });
        return;
    }
  }

  private async send(prompt: string): Promise<void> {
    if (!prompt.trim()) {
      return;
    }
    const argument: { prompt: string; context?: ChatContext } = { prompt };
    if (this.pending) {
      argument.context = this.pending.context;
    }
    try {
      parseTurnResult(await this.client.execute(Commands.chat, argument), Commands.chat);
      this.pending = undefined;
      void this.post({ type: 'sent' });
    } catch (error) {
      this.notice({ level: 'error', text: `Not sent: ${messageOf(error)}` });
      void this.post({ type: 'sendFailed' });
    }
  }

  /** Cancel the running chat turn (the Stop button and "Agent: Cancel"). */
  async stop(): Promise<void> {
    try {
      await this.client.execute(Commands.cancel, this.transcript.runningTurn ? { turnId: this.transcript.runningTurn } : {});
    } catch (error) {
      this.notice({ level: 'error', text: `Stop failed: ${messageOf(error)}` });
    }
  }

  private html(webview: vscode.Webview, media: vscode.Uri): string {
    const nonce = Array.from({ length: 32 }, () => Math.floor(Math.random() * 36).toString(36)).join('');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(media, 'chat.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(media, 'chat.css'));
    const csp = [
      "default-src 'none'",
      `style-src ${webview.cspSource}`,
      `img-src ${webview.cspSource} https: data:`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style.toString()}">
<title>Agent</title>
</head>
<body>
<div id="log" role="log" aria-live="polite"></div>
<div id="composer">
  <div id="context" hidden><span id="context-label"></span><button id="context-clear" title="Remove context" aria-label="Remove context">×</button></div>
  <textarea id="prompt" rows="3" placeholder="Ask the agent… (Enter to send, Shift+Enter for a new line)" aria-label="Prompt"></textarea>
  <div id="buttons">
    <button id="add-selection" class="secondary" title="Add the editor selection as context">Add selection</button>
    <button id="stop" class="secondary" hidden>Stop</button>
    <button id="send">Send</button>
  </div>
</div>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
  }
}
