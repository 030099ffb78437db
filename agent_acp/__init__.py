"""agent-lsp's ACP front end: the agent of :mod:`agent_core` in any Agent Client Protocol client
(Zed, JetBrains, Emacs agent-shell, Neovim chat plugins), over stdio.

``agent-lsp acp`` starts it; docs/acp.md says how to configure each editor and what is supported.
It uses the core's public API only (the :class:`~agent_core.agent.Agent` facade, its events and
the :class:`~agent_core.host.Host` protocol), beside the LSP front end and on the same
per-workspace sessions.
"""
