"""A ``session/prompt``'s content blocks -> the user message the model reads.

ACP clients send a prompt as blocks: text, and for every file or selection the user mentioned
(``@file``, a selection added to the thread) either a resource link (a URI) or, when the agent
advertises ``embeddedContext``, an embedded resource (the URI and its text, unsaved edits
included). The text keeps its order, with each mention named inline where it stood; the mentioned
content follows it, rendered by the core's :class:`~agent_core.agent.PromptContext` exactly as the
LSP front end renders the editor's selection, so the model sees one format whichever editor it is
in. A selection's lines come from the URI fragment (``#L10:20``, ``#L10-L20``, ``#L10``).

Images and audio are not advertised; a client that sends them anyway gets a note in the message
saying they were left out, never a silent drop.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from acp.schema import (
    AudioContentBlock,
    BlobResourceContents,
    EmbeddedResourceContentBlock,
    ImageContentBlock,
    ResourceContentBlock,
    TextContentBlock,
)

from agent_core.prompt import PromptContext

Block = TextContentBlock | ImageContentBlock | AudioContentBlock | ResourceContentBlock | EmbeddedResourceContentBlock

_LINES = re.compile(r"^L?(\d+)(?:[:-]L?(\d+))?$")


class EmptyPrompt(ValueError):
    """The prompt had no text and no content to act on."""


@dataclass(frozen=True)
class Prompt:
    """What the user asked: ``text`` as typed (slash commands are read from it alone) and
    ``message``, the text with the mentioned content the model gets."""

    text: str
    message: str


@dataclass(frozen=True)
class _Reference:
    label: str  # how the mention reads inline: the workspace-relative path, or the name
    path: str  # what PromptContext names: relative path, absolute path, or the URI
    start_line: int | None
    end_line: int | None


def read_prompt(blocks: Sequence[Block], workspace: Path) -> Prompt:
    """Render ``blocks`` (see the module docstring); raises :class:`EmptyPrompt`."""
    parts = _Parts()
    contexts: list[PromptContext] = []
    notes: list[str] = []
    for block in blocks:
        if isinstance(block, TextContentBlock):
            parts.text(block.text)
        elif isinstance(block, ResourceContentBlock):
            ref = _reference(block.uri, block.name, workspace)
            parts.mention(ref.label)
            contexts.append(PromptContext(path=ref.path, start_line=ref.start_line, end_line=ref.end_line))
        elif isinstance(block, EmbeddedResourceContentBlock):
            resource = block.resource
            ref = _reference(resource.uri, None, workspace)
            parts.mention(ref.label)
            if isinstance(resource, BlobResourceContents):
                notes.append(f"({ref.label} is binary content; it was left out.)")
                continue
            contexts.append(
                PromptContext(path=ref.path, selection=resource.text, start_line=ref.start_line, end_line=ref.end_line)
            )
        else:
            notes.append(f"({block.type} content was left out: this agent reads text only.)")
    text = str(parts).strip()
    if not text and not contexts:
        raise EmptyPrompt("The prompt is empty: type a question or an instruction.")
    message = text
    for context in contexts:
        message = context.render(message)
    if notes:
        message = "\n".join([message, "", *notes])
    return Prompt(text=text, message=message.strip("\n"))


class _Parts:
    """The prompt's text with mentions named inline, a space kept between a mention and a word."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._after_mention = False

    def text(self, text: str) -> None:
        if self._after_mention and text[:1].isalnum():
            text = " " + text
        self._parts.append(text)
        self._after_mention = False

    def mention(self, label: str) -> None:
        space = " " if self._parts and not self._parts[-1][-1:].isspace() else ""
        self._parts.append(f"{space}`{label}`")
        self._after_mention = True

    def __str__(self) -> str:
        return "".join(self._parts)


def _reference(uri: str, name: str | None, workspace: Path) -> _Reference:
    """What a mentioned URI names: a file inside the workspace is shown relative to it."""
    parts = urlsplit(uri)
    start, end = _lines(parts.fragment)
    if parts.scheme != "file":
        label = name or uri
        return _Reference(label, uri, start, end)
    path = Path(unquote(parts.path))
    try:
        shown = path.relative_to(workspace).as_posix()
    except ValueError:
        shown = str(path)
    return _Reference(shown, shown, start, end)


def _lines(fragment: str) -> tuple[int | None, int | None]:
    match = _LINES.match(fragment)
    if match is None:
        return None, None
    start = int(match.group(1))
    end = int(match.group(2)) if match.group(2) else None
    return start, end
