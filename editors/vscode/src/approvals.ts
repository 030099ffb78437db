/**
 * Approval requests (`agent/requestPermission`): the agent wants to edit a file or run a
 * command and the policy says "ask".
 *
 * Shown as a modal dialog because the turn is blocked until the user answers, and an easily
 * missed toast would stall it silently. "Allow once" is first, per the editor-UX notes; closing
 * the dialog (Escape) rejects. A rejection may carry a reason, which the model gets as the tool
 * result.
 */
import * as vscode from 'vscode';
import { ALLOW_ONCE, ALLOW_SESSION, decisionFor, REJECT, type PermissionRequest, type PermissionResponse } from './protocol';

export async function askPermission(request: PermissionRequest): Promise<PermissionResponse> {
  const title = request.title || `The agent wants to use ${request.tool}.`;
  // "Reject" is the dialog's close affordance: Escape rejects, and no extra "Cancel" button appears.
  const items: vscode.MessageItem[] = [{ title: ALLOW_ONCE }, { title: ALLOW_SESSION }, { title: REJECT, isCloseAffordance: true }];
  const choice = await vscode.window.showWarningMessage(title, { modal: true, detail: request.detail }, ...items);
  const decision = decisionFor(choice?.title);
  if (decision !== 'reject') {
    return { decision };
  }
  const reason = await vscode.window.showInputBox({
    title: `Reject ${request.tool}`,
    prompt: 'Tell the agent why (optional)',
    ignoreFocusOut: true,
  });
  return reason && reason.trim() ? { decision, reason: reason.trim() } : { decision };
}
