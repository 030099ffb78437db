"""Confining every tool path to the workspace root, and the ignore rules for walking it.

A path from the model is untrusted: ``..``, an absolute path elsewhere, or a symlink inside the
workspace that points outside must all be refused, with an error the model can understand. The
check is done twice: lexically (so ``a/../../etc`` is refused even when ``a`` does not exist) and
on the fully resolved path (so a symlink that escapes is refused, while one that stays inside
works and names its target).

Some folders inside the workspace are private: every ``.git`` (its config holds tokens in remote
URLs; editing hooks would run code), the agent's own ``.agent-lsp`` folder and the configured
sessions folder (whole transcripts). Both checks refuse them too, compared without regard to case,
since ``.GIT`` *is* ``.git`` on macOS and Windows.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

from pathspec import GitIgnoreSpec

from agent_core.paths import relative_path
from agent_core.tools.errors import ToolError
from agent_core.tools.textfiles import read_regular

#: A folder of this name (any case) is private wherever it is: nested repositories have one too.
GIT_FOLDER = ".git"
#: The agent's own folder at the workspace root (sessions by default), private as a whole.
AGENT_FOLDER = ".agent-lsp"
#: A larger .gitignore is not read (it is no real one).
MAX_GITIGNORE_BYTES = 1024 * 1024


class PathRefused(ToolError):
    """A tool path that is not allowed; the message is the tool error the model reads."""


class Workspace:
    """The root every tool works in, plus the folders tools never walk into."""

    def __init__(self, root: Path, sessions_folder: str = ".agent-lsp/sessions") -> None:
        self.root = root.resolve()
        sessions = Path(sessions_folder)
        self.sessions = (sessions if sessions.is_absolute() else self.root / sessions).resolve()
        self._root_folded = str(self.root).casefold()
        self._sessions_folded = str(self.sessions).casefold()

    def resolve(self, path: str) -> Path:
        """The real path ``path`` names inside the workspace, or :class:`PathRefused`.

        Relative paths are taken from the workspace root. The result has symlinks resolved, so a
        symlink inside the workspace yields its (inside) target.
        """
        if not isinstance(path, str) or not path.strip():
            raise PathRefused(
                'The path is empty; give a path relative to the workspace root (for example "src/app.py").'
            )
        if "\0" in path:
            raise PathRefused("The path contains a NUL character.")
        candidate = Path(path) if os.path.isabs(path) else self.root / path
        lexical = Path(os.path.normpath(candidate))
        if not _inside(lexical, self.root):
            raise PathRefused(
                f"Refused: {path!r} is outside the workspace; only paths inside the workspace root may be used."
            )
        real = lexical.resolve()
        if not _inside(real, self.root):
            raise PathRefused(
                f"Refused: {path!r} is a symlink (or goes through one) that points outside the workspace."
            )
        if self.is_private(lexical) or self.is_private(real):
            raise PathRefused(
                f"Refused: {path!r} is inside .git or the agent's session folder; the tools never read, "
                "list, search or edit them (they hold credentials and transcripts)."
            )
        return real

    def relative(self, path: Path) -> str:
        """How a resolved path is shown to the model: relative to the root, with forward slashes."""
        return relative_path(path, self.root)

    def is_private(self, path: Path) -> bool:
        """True for anything in a ``.git`` folder, the root's ``.agent-lsp`` folder or the sessions
        folder (case-insensitively): never read, listed, searched or edited."""
        folded = str(path).casefold()
        if _under(folded, self._sessions_folded):
            return True
        if not _under(folded, self._root_folded) or folded == self._root_folded:
            return False
        parts = folded[len(self._root_folded) :].strip(os.sep).split(os.sep)
        return parts[0] == AGENT_FOLDER or GIT_FOLDER in parts


class IgnoreRules:
    """Git's ignore rules for a walk: every ``.gitignore`` from the root down, the deeper file
    winning, as git does. Paths are checked relative to each ``.gitignore``'s folder."""

    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace
        self._specs: dict[Path, GitIgnoreSpec | None] = {}
        self._chains: dict[Path, list[tuple[str, GitIgnoreSpec]]] = {}

    def _spec(self, folder: Path) -> GitIgnoreSpec | None:
        if folder not in self._specs:
            spec = None
            try:
                data = read_regular(folder / ".gitignore", MAX_GITIGNORE_BYTES)
                spec = GitIgnoreSpec.from_lines(data.decode("utf-8", errors="replace").splitlines())
            except OSError:  # none, unreadable, or not a regular file (a FIFO would block)
                pass
            self._specs[folder] = spec
        return self._specs[folder]

    def ignored(self, path: Path, is_dir: bool) -> bool:
        """Whether ``path`` (inside the workspace) is ignored, or is private (``.git``, sessions)."""
        if self._workspace.is_private(path):
            return True
        text = str(path)
        verdict: bool | None = None
        for base, spec in self._chain(path.parent):  # root first, so deeper .gitignore files win
            rel = text[len(base) + 1 :] if base != "/" else text[1:]
            if os.sep != "/":
                rel = rel.replace(os.sep, "/")
            include = spec.check_file(rel + ("/" if is_dir else "")).include
            if include is not None:
                verdict = include
        return bool(verdict)

    def _chain(self, folder: Path) -> list[tuple[str, GitIgnoreSpec]]:
        """The ``.gitignore`` specs that apply in ``folder``, root first (cached per folder: a
        walk asks for every file)."""
        chain = self._chains.get(folder)
        if chain is None:
            root = self._workspace.root
            inside = _inside(folder, root)
            chain = list(self._chain(folder.parent)) if inside and folder != root else []
            spec = self._spec(folder) if inside else None
            if spec is not None:
                chain.append((str(folder), spec))
            self._chains[folder] = chain
        return chain

    def walk(
        self, start: Path, stop: threading.Event | None = None, *, recursive: bool = True
    ) -> Iterator[tuple[Path, bool]]:
        """Yield ``(path, is_dir)`` under ``start`` (not following symlinked folders), sorted,
        skipping ignored entries and special files (FIFOs, sockets, devices) and never entering an
        ignored folder (git cannot re-include anything inside one either). ``stop`` ends a walk
        running in a worker thread early when its tool call is cancelled."""
        stack = [start]
        while stack:
            if stop is not None and stop.is_set():
                return
            folder = stack.pop()
            try:
                entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
            except OSError:
                continue
            subfolders: list[Path] = []
            for entry in entries:
                is_dir = entry.is_dir(follow_symlinks=False)
                if not (is_dir or entry.is_file(follow_symlinks=False) or entry.is_symlink()):
                    continue
                path = Path(entry.path)
                if self.ignored(path, is_dir):
                    continue
                yield path, is_dir
                if is_dir and recursive:
                    subfolders.append(path)
            stack.extend(reversed(subfolders))


def _inside(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def _under(path: str, folder: str) -> bool:
    """Whether the (normalised, absolute) path string ``path`` is ``folder`` or inside it."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)
