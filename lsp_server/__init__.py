"""agent-lsp's language server: the agent of :mod:`agent_core` in any LSP editor.

The protocol it speaks is documented in docs/protocol.md; :mod:`lsp_server.server` wires it.
"""
