"""The agent-lsp test suite (a package so ``tests.fakes`` is importable from every test folder)."""
