"""MCP servers as tool sources: configured as users already configure them, behind approvals.

* :mod:`~agent_core.mcp.spec` and :mod:`~agent_core.mcp.sources`: the config dialects, their
  variables and the merge of the sources (ACP client list, the ``mcpServers`` setting,
  ``.vscode/mcp.json``, ``.mcp.json``);
* :mod:`~agent_core.mcp.trust`: the question before a workspace's own config starts a program,
  and its answer remembered outside the repository;
* :mod:`~agent_core.mcp.stdio` and :mod:`~agent_core.mcp.connection`: one server's process or HTTP
  endpoint, its session, restarts and stop;
* :mod:`~agent_core.mcp.offer`: tool names, schemas and results as the model sees them;
* :mod:`~agent_core.mcp.manager`: one workspace's servers, driven by the tool registry.

Only the connection imports the ``mcp`` SDK, and only when a server starts.
"""
