"""The editor-agnostic agent: providers, the agent loop, tools, sessions.

Nothing in this package knows about LSP or any editor; front ends (the LSP server in
``lsp_server``, the terminal in ``agent_core.terminal``) drive it through :class:`agent_core.host.Host`.
"""

__version__ = "0.1.0"
