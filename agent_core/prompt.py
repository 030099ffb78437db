"""What the model is sent besides the conversation: the editor context rendered into the user
message, the default system prompt, and the room kept free for the reply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agent_core.providers.base import ToolSpec
from agent_core.text import fenced


@dataclass(frozen=True)
class PromptContext:
    """Where the user is in the editor when they ask: a file, a range, the selected text, and the
    diagnostics on it. Lines are 1-based and inclusive; every part is optional."""

    path: str | None = None
    selection: str | None = None
    start_line: int | None = None
    end_line: int | None = None
    diagnostics: list[str] = field(default_factory=list)

    def render(self, prompt: str) -> str:
        """The user message: the prompt, then the editor context the model needs to act on it."""
        parts = [prompt]
        lines = ""
        if self.start_line is not None:
            same = self.end_line is None or self.end_line == self.start_line
            lines = f"line {self.start_line}" if same else f"lines {self.start_line}-{self.end_line}"
        where = " ".join(part for part in (f"`{self.path}`" if self.path else "", lines) if part)
        if self.selection:
            language = Path(self.path).suffix.lstrip(".") if self.path else ""
            parts.append(f"\nSelected text{' in ' + where if where else ''}:")
            parts.append(fenced(self.selection.rstrip("\n"), language))
        elif where:
            parts.append(f"\nCurrent file: {where}")
        if self.diagnostics:
            parts.append("\nDiagnostics:")
            parts.extend(f"- {line}" for line in self.diagnostics)
        return "\n".join(parts)


def default_system_prompt(workspace: Path, tools: Sequence[ToolSpec]) -> str:
    """The system prompt used unless ``config.system_prompt`` replaces it. It names the workspace
    and the tools (their full descriptions travel with every request as tool definitions, so
    they are not repeated here) and states the rules users expect from a coding agent."""
    names = ", ".join(tool.name for tool in tools)
    return (
        "You are agent-lsp, a careful coding agent working inside the user's editor.\n"
        f"The workspace is the folder {workspace.name!r}; every path you use is relative to it.\n"
        f"Your tools: {names}.\n"
        "Read a file before you edit it, make small exact edits, and run the project's tests when "
        "that checks your work. Edits and commands may need the user's approval; when one is "
        "rejected, read the reason and change course. Answer concisely in Markdown and say what "
        "you changed."
    )


def reply_reserve(reserve_tokens: int, max_tokens: int, context_window: int) -> int:
    """Tokens kept free for the reply: never more than the reply may use (``max_tokens``), nor
    more than a quarter of the window, so a small local model (4k window, 4k default reserve)
    still has room for the conversation; its reply is then cut by the window instead."""
    return min(reserve_tokens, max_tokens, context_window // 4)
