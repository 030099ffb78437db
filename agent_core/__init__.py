"""The editor-agnostic agent: providers, the agent loop, tools, sessions.

Nothing in this package knows about LSP or any editor, parses a command line or prints; front
ends (the LSP server in ``lsp_server``, the terminal in ``agent_cli``) drive it through
:class:`agent_core.agent.Agent` and give each turn its :class:`agent_core.host.Host`.
"""

__version__ = "0.1.0"
