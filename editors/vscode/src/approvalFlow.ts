/**
 * What the user is shown for an approval (`agent/requestPermission`), and the order of questions.
 *
 * The server sends the whole detail (every changed line, the whole command) already made visible
 * (no control, bidi or invisible character left). A modal dialog cannot show a long text well, so
 * a detail over `MODAL_DETAIL_CHARS` characters or `MODAL_DETAIL_LINES` lines is shown as its head
 * and its tail around a line saying how much lies between, and the dialog's first button is
 * "View Whole Detail": it opens the whole detail in an editor, and the question is asked again
 * beside it (not modal, so the document can be scrolled meanwhile). Nothing is approved unseen:
 * the end of a command, where `; curl ... | sh` would hide, is always in the dialog.
 *
 * Pure (the UI is injected), so the flow is unit tested in plain Node.
 */
import { ALLOW_ONCE, ALLOW_SESSION, decisionFor, REJECT, type PermissionRequest, type PermissionResponse } from './protocol';

export const MODAL_DETAIL_CHARS = 1500;
export const MODAL_DETAIL_LINES = 20;
export const VIEW_DETAIL = 'View Whole Detail';

/** The dialog's texts; `cut` when the detail is not shown whole. */
export interface ApprovalDialog {
  message: string;
  detail: string;
  cut: boolean;
}

/** A long text's head and tail, and how much lies between them. */
export interface Excerpt {
  head: string;
  tail: string;
  omittedChars: number;
  omittedLines: number;
}

const LINES = /[^\n]*\n|[^\n]+$/g;

/** The first of `lines` that fit both limits, then as much of the next one as still fits. */
function leading(lines: string[], maxChars: number, maxLines: number): string {
  let room = maxChars;
  let taken = '';
  for (const line of lines.slice(0, maxLines)) {
    if (line.length > room) {
      return taken + line.slice(0, room);
    }
    taken += line;
    room -= line.length;
  }
  return taken;
}

const reverse = (text: string): string => Array.from(text).reverse().join('');

/**
 * `text` whole when it fits both limits, else its head and tail within half of each: whole lines,
 * then the part of the next line that still fits (so the end of one long line is shown too).
 * The same rule as the server's `agent_core.visible_text.excerpt`.
 */
export function excerpt(text: string, maxChars: number, maxLines: number): Excerpt {
  const lines = text.match(LINES) ?? [];
  if (text.length <= maxChars && lines.length <= maxLines) {
    return { head: text, tail: '', omittedChars: 0, omittedLines: 0 };
  }
  const halfChars = Math.max(1, Math.floor(maxChars / 2));
  const halfLines = Math.max(1, Math.floor(maxLines / 2));
  const head = leading(lines, halfChars, halfLines);
  const rest = text.slice(head.length);
  // The tail is the leading part of the text read backwards (each line reversed, last first).
  const backwards = (rest.match(LINES) ?? []).reverse().map(reverse);
  const tail = reverse(leading(backwards, halfChars, halfLines));
  const middle = rest.slice(0, rest.length - tail.length);
  return { head, tail, omittedChars: middle.length, omittedLines: middle.split('\n').length - 1 };
}

/** The modal dialog for `request`: the title, and the detail whole or as head, tail and counts. */
export function approvalDialog(request: PermissionRequest): ApprovalDialog {
  const message = request.title || `The agent wants to use ${request.tool}.`;
  const shown = excerpt(request.detail, MODAL_DETAIL_CHARS, MODAL_DETAIL_LINES);
  if (shown.omittedChars === 0) {
    return { message, detail: request.detail, cut: false };
  }
  const chars = `${shown.omittedChars.toLocaleString('en-US')} characters`;
  const amount = shown.omittedLines > 0 ? `${shown.omittedLines.toLocaleString('en-US')} lines (${chars})` : chars;
  const note = `[... ${amount} not shown here: choose "${VIEW_DETAIL}" to read all of it ...]`;
  return { message, detail: [shown.head.replace(/\n+$/, ''), note, shown.tail].join('\n'), cut: true };
}

/** The editor UI the flow needs (VS Code's in the extension, a script in tests). */
export interface ApprovalUi {
  /** A modal question with these buttons, the last one the close affordance; undefined: closed. */
  askModal(message: string, detail: string, buttons: string[]): Promise<string | undefined>;
  /** A question that does not block the editor (shown beside the opened detail). */
  askBeside(message: string, buttons: string[]): Promise<string | undefined>;
  /** Open the whole detail in an editor. */
  showDetail(request: PermissionRequest): Promise<void>;
  /** An optional reason for a rejection. */
  askReason(tool: string): Promise<string | undefined>;
}

const ANSWERS = [ALLOW_ONCE, ALLOW_SESSION, REJECT];

/** Ask until the user answers; closing any question rejects. */
export async function askPermission(request: PermissionRequest, ui: ApprovalUi): Promise<PermissionResponse> {
  const dialog = approvalDialog(request);
  let choice = await ui.askModal(dialog.message, dialog.detail, dialog.cut ? [VIEW_DETAIL, ...ANSWERS] : ANSWERS);
  if (choice === VIEW_DETAIL) {
    await ui.showDetail(request);
    choice = await ui.askBeside(`${dialog.message} (the whole detail is open in the editor)`, ANSWERS);
  }
  const decision = decisionFor(choice);
  if (decision !== 'reject') {
    return { decision };
  }
  const reason = await ui.askReason(request.tool);
  return reason && reason.trim() ? { decision, reason: reason.trim() } : { decision };
}
