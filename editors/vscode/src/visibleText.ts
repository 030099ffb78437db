/**
 * Text from the model, a file or the workspace, made fit to show a person who has to judge it.
 *
 * A quick pick or a message shows what it is given: bidi overrides reorder a line ("Trojan
 * Source"), zero-width and other format characters make two different names look the same, and a
 * line break in a label hides what follows. `visible` writes every such character as a visible
 * escape (`\x1b`, `\r`, `\u202e`): the same set and spelling as the server's
 * `agent_core/visible_text.py`, which already escapes approval titles and details. Checkpoint
 * prompts and paths are escaped here before a quick pick or a message shows them. Pure.
 */

/** Code point ranges of the Unicode categories Cc, Cf, Zl, Zp, Cs and the blank Hangul fillers. */
export const HIDDEN_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x0000, 0x001f],
  [0x007f, 0x009f],
  [0x00ad, 0x00ad],
  [0x0600, 0x0605],
  [0x061c, 0x061c],
  [0x06dd, 0x06dd],
  [0x070f, 0x070f],
  [0x0890, 0x0891],
  [0x08e2, 0x08e2],
  [0x115f, 0x1160],
  [0x180e, 0x180e],
  [0x200b, 0x200f],
  [0x2028, 0x202e],
  [0x2060, 0x2064],
  [0x2066, 0x206f],
  [0x3164, 0x3164],
  [0xd800, 0xdfff],
  [0xfeff, 0xfeff],
  [0xffa0, 0xffa0],
  [0xfff9, 0xfffb],
  [0x110bd, 0x110bd],
  [0x110cd, 0x110cd],
  [0x13430, 0x1343f],
  [0x1bca0, 0x1bca3],
  [0x1d173, 0x1d17a],
  [0xe0001, 0xe0001],
  [0xe0020, 0xe007f],
];

const hidden = (code: number): boolean => HIDDEN_RANGES.some(([first, last]) => code >= first && code <= last);

const NAMED: Record<string, string> = { '\r': '\\r', '\n': '\\n' };

function escape(char: string, code: number): string {
  const named = NAMED[char];
  if (named) {
    return named;
  }
  const hex = code.toString(16);
  if (code < 0x100) {
    return `\\x${hex.padStart(2, '0')}`;
  }
  return code < 0x10000 ? `\\u${hex.padStart(4, '0')}` : `\\U${hex.padStart(8, '0')}`;
}

/**
 * `text` with every invisible or display-controlling character written as an escape. With
 * `multiline`, line feeds (a CRLF counts as one) and tabs stay; without it only tabs do.
 */
export function visible(text: string, multiline = false): string {
  const source = multiline ? text.replace(/\r\n/g, '\n') : text;
  let out = '';
  // for...of walks code points; a lone surrogate comes out alone (and is in HIDDEN_RANGES).
  for (const char of source) {
    const code = char.codePointAt(0) ?? 0;
    out += char === '\t' || (multiline && char === '\n') || !hidden(code) ? char : escape(char, code);
  }
  return out;
}
