/**
 * "Agent: Edit Selection": inline chat for a range of the active editor.
 *
 * Flow: ask for an instruction, run `agent.inlineEdit`, open the diff editor between the live
 * document (left) and a virtual `agent-proposal:` document (right) that fills in as the proposal
 * streams (`agent/textDelta`), and is replaced by the final `agent/inlineEditProposal` (stray
 * code fences already removed by the server). Accept asks the server to apply the edit
 * (`agent.inlineEdit.accept`); it arrives as one `workspace/applyEdit`, so a single undo reverts
 * it. Reject sends an optional reason the model sees on its next request. The server's own
 * "Edit with agent" / "Fix with agent" code actions run through the same flow.
 */
import * as vscode from 'vscode';
import type { AgentClient } from './client';
import { messageOf } from './client';
import {
  Commands,
  parseAcceptResult,
  parseInlineEditArguments,
  parseTurnResult,
  type InlineEditArguments,
  type InlineEditProposal,
  type NoticeEvent,
  type TextDelta,
  type TurnEndedEvent,
  type TurnStarted,
} from './protocol';
import type { TurnReceiver } from './turns';

export const PROPOSAL_SCHEME = 'agent-proposal';

/** Replace the offsets `start`..`end` of `text` with `replacement`. */
function applyReplacement(text: string, start: number, end: number, replacement: string): string {
  return text.slice(0, start) + replacement + text.slice(end);
}

interface Proposal {
  turnId?: string;
  document: vscode.TextDocument;
  range: vscode.Range;
  /** The virtual right-hand side of the diff. */
  uri: vscode.Uri;
  streamed: string;
  final?: InlineEditProposal;
}

export class InlineEditController implements TurnReceiver, vscode.TextDocumentContentProvider, vscode.Disposable {
  private current: Proposal | undefined;
  private counter = 0;
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly client: AgentClient) {}

  dispose(): void {
    this.changed.dispose();
  }

  /** The proposed document: the live text with the range replaced by what has arrived so far. */
  provideTextDocumentContent(uri: vscode.Uri): string {
    const proposal = this.current;
    if (!proposal || proposal.uri.toString() !== uri.toString()) {
      return '';
    }
    const doc = proposal.document;
    const range = proposal.final
      ? new vscode.Range(proposal.final.range.start.line, proposal.final.range.start.character, proposal.final.range.end.line, proposal.final.range.end.character)
      : proposal.range;
    return applyReplacement(doc.getText(), doc.offsetAt(range.start), doc.offsetAt(range.end), proposal.final?.newText ?? proposal.streamed);
  }

  /** "Agent: Edit Selection": the active editor's selection, or its current line. */
  async editSelection(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.uri.scheme === PROPOSAL_SCHEME) {
      void vscode.window.showWarningMessage('Select the code to edit in an editor first.');
      return;
    }
    // A partial last line is kept as selected.
    const range = editor.selection.isEmpty ? editor.document.lineAt(editor.selection.active.line).range : new vscode.Range(editor.selection.start, editor.selection.end);
    await this.start(editor.document, range, undefined);
  }

  /**
   * The server's own `agent.inlineEdit` command (its "Edit with agent" / "Fix with agent" code
   * actions), intercepted so it gets the same instruction prompt and diff as the command.
   */
  async fromServerCommand(argument: unknown): Promise<void> {
    let arg: InlineEditArguments;
    try {
      arg = parseInlineEditArguments(argument);
    } catch (error) {
      void vscode.window.showErrorMessage(`Edit with agent: the code action is malformed (${messageOf(error)}).`);
      return;
    }
    const { start, end } = arg.range;
    const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(arg.uri));
    await this.start(document, new vscode.Range(start.line, start.character, end.line, end.character), arg.instruction);
  }

  private async start(document: vscode.TextDocument, range: vscode.Range, given: string | undefined): Promise<void> {
    if (this.current) {
      void vscode.window.showWarningMessage('An edit proposal is still open: accept or reject it first.');
      return;
    }
    const instruction =
      given ??
      (await vscode.window.showInputBox({
        title: 'Agent: Edit Selection',
        prompt: `How should lines ${range.start.line + 1}-${range.end.line + 1} change?`,
        placeHolder: 'e.g. add type hints',
        ignoreFocusOut: true,
      }));
    if (!instruction || !instruction.trim()) {
      return;
    }
    this.counter += 1;
    const uri = vscode.Uri.from({ scheme: PROPOSAL_SCHEME, path: document.uri.path, query: `n=${this.counter}` });
    const proposal: Proposal = { document, range, uri, streamed: '' };
    this.current = proposal;
    await this.setContext(true, false);
    try {
      const result = await this.client.execute(Commands.inlineEdit, {
        uri: document.uri.toString(),
        range: {
          start: { line: range.start.line, character: range.start.character },
          end: { line: range.end.line, character: range.end.character },
        },
        instruction,
      });
      proposal.turnId = parseTurnResult(result, Commands.inlineEdit);
    } catch (error) {
      await this.finish(proposal);
      void vscode.window.showErrorMessage(`Edit Selection failed: ${messageOf(error)}`);
      return;
    }
    if (this.current === proposal) {
      const name = vscode.workspace.asRelativePath(document.uri);
      await vscode.commands.executeCommand('vscode.diff', document.uri, uri, `${name} ↔ Agent proposal`, {
        preview: false,
        viewColumn: vscode.ViewColumn.Active,
      });
      // Changes fired while the diff editor was still opening are lost: refresh once it is open.
      this.changed.fire(uri);
    }
  }

  turnStarted(event: TurnStarted): void {
    // The notification may overtake the command's answer: adopt the turn here too.
    if (this.current && this.current.turnId === undefined) {
      this.current.turnId = event.turnId;
    }
  }

  textDelta(event: TextDelta): void {
    const proposal = this.mine(event.turnId);
    if (proposal && !proposal.final) {
      proposal.streamed += event.text;
      this.changed.fire(proposal.uri);
    }
  }

  proposal(event: InlineEditProposal): void {
    const proposal = this.mine(event.turnId);
    if (!proposal) {
      return;
    }
    proposal.final = event;
    this.changed.fire(proposal.uri);
    void this.setContext(true, true);
    const name = vscode.workspace.asRelativePath(proposal.document.uri);
    void vscode.window.showInformationMessage(`Agent proposed an edit for ${name}.`, 'Accept', 'Reject').then((choice) => {
      if (this.current !== proposal) {
        return;
      }
      if (choice === 'Accept') {
        void this.accept();
      } else if (choice === 'Reject') {
        void this.reject();
      }
    });
  }

  notice(event: NoticeEvent): void {
    if (event.level === 'error') {
      void vscode.window.showErrorMessage(event.text);
    } else if (event.level === 'warning') {
      void vscode.window.showWarningMessage(event.text);
    }
  }

  turnEnded(event: TurnEndedEvent): void {
    const proposal = this.mine(event.turnId);
    if (proposal && !proposal.final) {
      // The turn ended without a proposal: cancelled or failed. Nothing to accept.
      void this.finish(proposal);
      const why = event.error ?? (event.stopReason === 'cancelled' ? 'cancelled' : `no proposal (${event.stopReason})`);
      void vscode.window.showWarningMessage(`Edit Selection ended: ${why}.`);
    }
  }

  async accept(): Promise<void> {
    const proposal = this.current;
    if (!proposal?.final || !proposal.turnId) {
      void vscode.window.showWarningMessage('No edit proposal is ready to accept.');
      return;
    }
    try {
      const result = parseAcceptResult(await this.client.execute(Commands.inlineEditAccept, { turnId: proposal.turnId }));
      if (!result.applied) {
        void vscode.window.showErrorMessage(`The edit was not applied: ${result.reason}. The proposal stays open.`);
        return;
      }
    } catch (error) {
      void vscode.window.showErrorMessage(`Accepting the edit failed: ${messageOf(error)}`);
      return;
    }
    await this.finish(proposal);
    await vscode.window.showTextDocument(proposal.document, { preview: false });
  }

  async reject(): Promise<void> {
    const proposal = this.current;
    if (!proposal?.turnId) {
      void vscode.window.showWarningMessage('No edit proposal is open.');
      return;
    }
    if (!proposal.final) {
      // Still streaming: stop the turn; turnEnded closes the proposal.
      await this.client.execute(Commands.cancel, { turnId: proposal.turnId }).catch(() => undefined);
      return;
    }
    const reason = await vscode.window.showInputBox({
      title: 'Reject the proposed edit',
      prompt: 'Why? (optional; the agent sees this on your next request. Esc keeps the proposal open.)',
      ignoreFocusOut: true,
    });
    if (reason === undefined) {
      return;
    }
    try {
      await this.client.execute(Commands.inlineEditReject, reason.trim() ? { turnId: proposal.turnId, reason: reason.trim() } : { turnId: proposal.turnId });
    } catch (error) {
      void vscode.window.showErrorMessage(`Rejecting the edit failed: ${messageOf(error)}`);
      return;
    }
    await this.finish(proposal);
    await vscode.window.showTextDocument(proposal.document, { preview: false });
  }

  /** The server stopped: an open proposal can no longer be accepted. */
  serverStopped(): void {
    if (this.current) {
      void this.finish(this.current);
    }
  }

  private mine(turnId: string): Proposal | undefined {
    return this.current && this.current.turnId === turnId ? this.current : undefined;
  }

  /** Close the proposal's diff editor and forget it. */
  private async finish(proposal: Proposal): Promise<void> {
    if (this.current === proposal) {
      this.current = undefined;
    }
    await this.setContext(false, false);
    const tabs = vscode.window.tabGroups.all
      .flatMap((group) => group.tabs)
      .filter((tab) => tab.input instanceof vscode.TabInputTextDiff && tab.input.modified.toString() === proposal.uri.toString());
    if (tabs.length) {
      await vscode.window.tabGroups.close(tabs);
    }
  }

  private async setContext(pending: boolean, ready: boolean): Promise<void> {
    await vscode.commands.executeCommand('setContext', 'agentLsp.proposalPending', pending);
    await vscode.commands.executeCommand('setContext', 'agentLsp.proposalReady', ready);
  }
}
