"""Code actions: "Edit with agent" on any range, "Fix with agent" where diagnostics are.

Code actions are how every LSP editor offers context-specific actions (VS Code's light bulb,
Neovim's ``vim.lsp.buf.code_action()``, Helix's space-a), so the agent is one keystroke away
without any client plugin. Both actions run the ``agent.inlineEdit`` command on the range:

* "Fix with agent" carries an instruction built from the diagnostics the client sent for the range;
* "Edit with agent" carries no instruction: a client with input UI asks the user for one and adds
  it; a client without one gets the server's default instruction (see
  :data:`lsp_server.commands.DEFAULT_INSTRUCTION`).
"""

from __future__ import annotations

from lsprotocol import types

from lsp_server import wire

EDIT_TITLE = "Edit with agent"
FIX_TITLE = "Fix with agent"


def fix_instruction(diagnostics: list[types.Diagnostic]) -> str:
    problems = "\n".join(
        f"- line {d.range.start.line + 1}: {d.message}" + (f" ({d.source})" if d.source else "") for d in diagnostics
    )
    return f"Fix these problems, changing nothing else:\n{problems}"


def fix_range(requested: types.Range, diagnostics: list[types.Diagnostic]) -> types.Range:
    """Whole lines covering the requested range and every diagnostic: a cursor on a problem must
    still give the model the whole problem to fix."""
    first = min([requested.start.line, *(d.range.start.line for d in diagnostics)])
    last = max([requested.end.line, *(d.range.end.line for d in diagnostics)])
    return types.Range(start=types.Position(line=first, character=0), end=types.Position(line=last + 1, character=0))


def _wanted(kind: str, only: list[str] | None) -> bool:
    """LSP's ``context.only`` filter: a requested kind matches itself and its sub-kinds."""
    return not only or any(kind == want or kind.startswith(want + ".") for want in only)


def code_actions(params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    only = [str(k.value if isinstance(k, types.CodeActionKind) else k) for k in params.context.only or []]
    actions: list[types.CodeAction] = []
    diagnostics = list(params.context.diagnostics or [])
    quickfix = types.CodeActionKind.QuickFix.value
    rewrite = types.CodeActionKind.RefactorRewrite.value
    if diagnostics and _wanted(quickfix, only):
        arguments = wire.InlineEditArgs(
            uri=uri, range=wire.Range.of(fix_range(params.range, diagnostics)), instruction=fix_instruction(diagnostics)
        )
        actions.append(
            types.CodeAction(
                title=FIX_TITLE,
                kind=types.CodeActionKind.QuickFix,
                diagnostics=diagnostics,
                command=types.Command(title=FIX_TITLE, command=wire.INLINE_EDIT, arguments=[arguments.wire()]),
            )
        )
    if _wanted(rewrite, only):
        arguments = wire.InlineEditArgs(uri=uri, range=wire.Range.of(params.range))
        actions.append(
            types.CodeAction(
                title=EDIT_TITLE,
                kind=types.CodeActionKind.RefactorRewrite,
                command=types.Command(title=EDIT_TITLE, command=wire.INLINE_EDIT, arguments=[arguments.wire()]),
            )
        )
    return actions
