"""Ghost-text completions, editor-agnostic: fill-in-the-middle from a local or remote model.

The front end (the LSP server's ``textDocument/inlineCompletion``, ``agent-lsp complete``) builds
a :class:`~agent_core.completion.engine.CompletionRequest` and asks a
:class:`~agent_core.completion.engine.CompletionEngine`, made by
:func:`~agent_core.completion.select.make_engine` from the ``completion.*`` settings
(:mod:`~agent_core.completion.config`). The modules, in the order a request meets them:
``cache`` (typing through), ``context`` (windows), ``ring`` (extra chunks), ``sources`` (the
endpoints; ``fim`` and ``prompts`` for their prompts; ``local`` for the embedded model),
``quality`` (the rules a suggestion passes), and ``select`` (which source the settings mean).
"""
