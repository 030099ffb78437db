/**
 * Approval requests (`agent/requestPermission`): the agent wants to edit a file or run a
 * command and the policy says "ask".
 *
 * Shown as a modal dialog because the turn is blocked until the user answers, and an easily
 * missed toast would stall it silently. "Allow once" comes before the other answers, per the
 * editor-UX notes; closing the dialog (Escape) rejects. A rejection may carry a reason, which the
 * model gets as the tool result. A detail too long for the dialog is offered whole first, as a
 * read-only document of the `agent-approval` scheme (nothing to save when it is closed); the
 * flow itself is in `approvalFlow.ts`, this module is VS Code's side of it.
 */
import * as vscode from 'vscode';
import { askPermission, type ApprovalUi } from './approvalFlow';
import type { PermissionRequest, PermissionResponse } from './protocol';

export const APPROVAL_SCHEME = 'agent-approval';
/** Details kept for documents that may still be open (the oldest is dropped first). */
const KEPT = 20;

const items = (buttons: string[]): vscode.MessageItem[] =>
  // The last button ("Reject") is the close affordance: Escape rejects, and no "Cancel" appears.
  buttons.map((title, index) => ({ title, isCloseAffordance: index === buttons.length - 1 }));

export class ApprovalDialogs implements vscode.TextDocumentContentProvider {
  private readonly details = new Map<string, string>();
  private opened = 0;

  private readonly ui: ApprovalUi = {
    askModal: async (message, detail, buttons) =>
      (await vscode.window.showWarningMessage(message, { modal: true, detail }, ...items(buttons)))?.title,
    askBeside: async (message, buttons) => (await vscode.window.showWarningMessage(message, ...items(buttons)))?.title,
    showDetail: async (request) => {
      this.opened += 1;
      const extension = request.tool === 'edit_file' ? 'diff' : 'sh';
      const uri = vscode.Uri.from({ scheme: APPROVAL_SCHEME, path: `/approval-${this.opened}.${extension}` });
      this.details.set(uri.toString(), request.detail);
      for (const key of [...this.details.keys()].slice(0, Math.max(0, this.details.size - KEPT))) {
        this.details.delete(key);
      }
      const document = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(document, { preview: false });
    },
    askReason: async (tool) =>
      vscode.window.showInputBox({ title: `Reject ${tool}`, prompt: 'Tell the agent why (optional)', ignoreFocusOut: true }),
  };

  ask(request: PermissionRequest): Promise<PermissionResponse> {
    return askPermission(request, this.ui);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.details.get(uri.toString()) ?? 'This approval detail is no longer kept.';
  }
}
