"""``edit_file``: an exact, unique text replacement, or a whole-file write.

The edit is computed here against the text the user sees (the editor buffer when open), shown
for approval as a unified diff, and applied by the host with the original text attached, so a
host that finds the buffer changed meanwhile refuses instead of clobbering the user's work. The
diff is never cut: a line past a cut would be approved unseen (a front end that cannot show it
all shows its head and tail and lets the user open the whole). Every refusal (text not found,
not unique, rejected, apply failed) goes back to the model as an error result with the reason,
never as an exception.
"""

from __future__ import annotations

import difflib
import re

from pydantic import Field

from agent_core.host import ProposedEdit
from agent_core.tools.base import Tool, ToolArgs, ToolContext, ToolOutcome
from agent_core.tools.errors import ToolError
from agent_core.tools.files import current_text


class EditFileArgs(ToolArgs):
    path: str = Field(description="File path relative to the workspace root.")
    new_text: str = Field(description="The replacement text, or the whole new file when old_text is not given.")
    old_text: str | None = Field(
        None,
        description=(
            "Exact text to replace (whitespace included, without read_file's line-number prefixes); "
            "it must occur exactly once. Leave it out to create the file or replace its whole text."
        ),
    )


class EditFile(Tool):
    name = "edit_file"
    description = (
        "Change a file: replace old_text (which must occur exactly once) with new_text, or, without "
        "old_text, write new_text as the whole file (creating it if needed). The user may be asked "
        "to approve and may reject with a reason."
    )
    brief = (
        "Replace old_text (it must occur exactly once) with new_text; without old_text, write "
        "new_text as the whole file."
    )
    args = EditFileArgs

    async def run(self, args: EditFileArgs, ctx: ToolContext) -> ToolOutcome:
        workspace = ctx.workspace
        path = workspace.resolve(args.path)
        shown = workspace.relative(path)
        original = await current_text(path, ctx.host, shown)
        new_text, summary = _new_text(original, args, shown)
        if new_text == original:
            raise ToolError(f"No change: the edit leaves {shown} exactly as it is.")

        verb = "Create" if original is None else "Edit"
        diff, change = _diff(original, new_text, shown)
        proposed = ProposedEdit(path, original, new_text)
        approval = await ctx.approvals.check(self.name, f"{verb} {shown}", diff, ctx.turn_id, edit=proposed)
        if not approval.allowed:
            raise ToolError(f"{verb} {shown} was not done. {approval.message}")
        # The approval may have taken minutes: a folder on the path may be a symlink by now.
        if workspace.resolve(args.path) != path:
            raise ToolError(
                f"Refused: the path {shown} changed while waiting for approval (a folder on it "
                "was replaced); nothing was written. Check the folder and try again."
            )
        ctx.started()
        if ctx.checkpoint is not None:
            await ctx.checkpoint.before_write(shown, original)
        result = await ctx.host.apply_edit(path, original, new_text)
        if not result.applied:
            if ctx.checkpoint is not None:
                await ctx.checkpoint.write_failed(shown)
            reason = result.reason or "no reason given"
            raise ToolError(f"The edit to {shown} was not applied: {reason}. Read the file again before retrying.")
        if ctx.checkpoint is not None:
            await ctx.checkpoint.after_write(shown, new_text)
        return ToolOutcome(f"{summary} ({change}).")


def _new_text(original: str | None, args: EditFileArgs, shown: str) -> tuple[str, str]:
    """The file's new text and a one-line summary, or a :class:`ToolError` saying why not."""
    if args.old_text is None:
        return args.new_text, (f"Created {shown}" if original is None else f"Wrote the whole of {shown}")
    if original is None:
        raise ToolError(f"File not found: {shown}. To create it, call edit_file without old_text.")
    if args.old_text == "":
        raise ToolError(
            "old_text is empty; give the exact text to replace, or leave old_text out to write the whole file."
        )
    old, new = args.old_text, args.new_text
    count = original.count(old)
    if count == 0 and "\r\n" in original and "\r\n" not in old:
        # The model saw the file with plain newlines; match it in the file's own line endings.
        old, new = old.replace("\n", "\r\n"), new.replace("\r\n", "\n").replace("\n", "\r\n")
        count = original.count(old)
    if count == 0:
        raise ToolError(
            f"old_text was not found in {shown}. Read the file again and copy the exact text, "
            "whitespace included and without line-number prefixes."
        )
    if count > 1:
        raise ToolError(f"old_text occurs {count} times in {shown}; include more surrounding lines so it occurs once.")
    return original.replace(old, new, 1), f"Edited {shown}"


def _diff(original: str | None, new_text: str, shown: str) -> tuple[str, str]:
    """The whole unified diff for the approval prompt and a "+a -r lines" count."""
    lines = list(
        difflib.unified_diff(
            _lines(original or ""),
            _lines(new_text),
            fromfile="/dev/null" if original is None else f"a/{shown}",
            tofile=f"b/{shown}",
        )
    )
    body = [line for line in lines[2:] if not line.startswith("@@")]
    added = sum(1 for line in body if line.startswith("+"))
    removed = sum(1 for line in body if line.startswith("-"))
    lines = [line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines]
    return "".join(lines), f"+{added} -{removed} lines"


def _lines(text: str) -> list[str]:
    """Lines with their endings, split on LF only, as the user's editor counts them."""
    return re.findall(r"[^\n]*\n|[^\n]+$", text)
