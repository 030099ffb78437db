"""The terminal front end: ``agent-lsp chat``, one agent turn in a workspace on disk.

A front end like :mod:`lsp_server`, beside it rather than in the core: it owns the process's
argv, stdin, stdout and signals, and drives :class:`agent_core.agent.Agent` through a
:class:`~agent_cli.terminal.TerminalHost`.
"""
