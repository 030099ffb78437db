"""Checkpoints and restore results as text, for the ``/rewind`` slash command."""

from __future__ import annotations

import time

from agent_core.checkpoints.manager import CheckpointInfo, RestoreResult
from agent_core.text import one_line


def format_checkpoints(infos: list[CheckpointInfo]) -> str:
    """One numbered entry per turn, oldest first: time, prompt, then its files (! = conflict)."""
    if not infos:
        return "No checkpoints yet: each chat turn of this session gets one."
    lines = ["Checkpoints (restore with /rewind N [files|conversation|both]; ! = changed since the agent wrote it):"]
    for number, info in enumerate(infos, start=1):
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.time))
        mark = "  [conflicts]" if info.conflicts else ""
        lines.append(f"{number:>3}. {when}  {one_line(info.prompt, 70)}  ({len(info.files)} files){mark}")
        for file in info.files:
            conflict = " !" if file.conflict else ""
            lines.append(f"       {file.change:<8} {file.path}  +{file.added} -{file.removed}{conflict}")
        for skipped in info.skipped:
            lines.append(f"       not kept {skipped['path']}: {skipped['reason']}")
        if info.incomplete:
            lines.append(f"       incomplete: {info.incomplete}")
    return "\n".join(lines)


def format_restore(result: RestoreResult, what: str) -> str:
    """What a restore or undo did."""
    if result.conflicts:
        return (
            f"Nothing was restored: {len(result.conflicts)} file(s) changed since the agent wrote them: "
            f"{', '.join(result.conflicts)}. Add --force to overwrite them or --skip-conflicts to keep them."
        )
    parts = [
        f"{what}: {len(result.restored)} file(s) restored"
        + (f" ({', '.join(result.restored)})" if result.restored else "")
    ]
    if result.conversation:
        parts.append("the conversation was rewound" if what == "Restored" else "the conversation is back")
    text = "; ".join(parts) + "."
    for skipped in result.skipped:
        text += f"\n  not restored: {skipped['path']}: {skipped['reason']}"
    if what == "Restored":
        text += "\n/rewind undo puts everything back as it was before this restore."
    return text
