"""Whether a tool that changes something (an edit, a command) may run.

The policy is per tool (``allow`` / ``deny`` / ``ask``, default ``ask``: users of other agents
complained most about defaults that allow everything). ``ask`` goes to the front end through the
``Host.ask_permission`` of the turn that wants the action (see :meth:`Approvals.for_host`); an
"allow for this session" answer is remembered per tool for the life of the agent's object (it is
forgotten when the session changes), and a rejection's reason goes back to the model so it can
change course instead of retrying blindly.

What the user is asked about is made visible here, once for every front end: the title on one
line and the detail (the whole diff or command, never cut) with every control, bidi and
invisible character written as an escape (:mod:`agent_core.visible_text`), so no text from the
model or a file can hide part of what would run.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic.alias_generators import to_camel

from agent_core.config import ApprovalConfig, ApprovalMode
from agent_core.host import Decision, Host, PermissionRequest, ProposedEdit
from agent_core.visible_text import visible


@dataclass(frozen=True)
class Approval:
    """The answer for one tool call. ``message`` says why not, in words for the model."""

    allowed: bool
    message: str | None = None


#: The built-in tools that have a setting of their own in ``approval``.
_BUILT_IN = frozenset({"edit_file", "run_command"})


class Approvals:
    """Applies the approval policy, asking the user through the host when it says ``ask``."""

    def __init__(self, policy: ApprovalConfig, host: Host, *, allowed: set[str] | None = None) -> None:
        self.policy = policy
        self._host = host
        self._allowed_for_session: set[str] = set() if allowed is None else allowed

    def for_host(self, host: Host) -> Approvals:
        """The same policy and "allow for this session" memory, asking through ``host`` (one
        turn's): an answer given in one turn holds for the next."""
        return Approvals(self.policy, host, allowed=self._allowed_for_session)

    def mode(self, tool: str) -> ApprovalMode:
        """The policy for ``tool``; a tool the policy does not name is asked about (safe default)."""
        mode: ApprovalMode = getattr(self.policy, tool, "ask") if tool in _BUILT_IN else "ask"
        return mode

    def mcp_mode(self, server: str, tool: str) -> ApprovalMode:
        """The policy for ``tool`` of MCP server ``server``: ``approval.mcp``, except that a tool
        in the server's ``approval.mcpAllow`` list (or ``*``) runs without asking unless
        ``approval.mcp`` is ``deny``."""
        if self.policy.mcp != "deny":
            allowed = self.policy.mcp_allow.get(server, [])
            if tool in allowed or "*" in allowed:
                return "allow"
        return self.policy.mcp

    async def check(
        self,
        tool: str,
        title: str,
        detail: str,
        turn_id: str,
        *,
        edit: ProposedEdit | None = None,
        mode: ApprovalMode | None = None,
    ) -> Approval:
        """Decide for one call; asks the user only when the policy (``mode``, default the
        tool's own setting) says ``ask`` and the user has not already allowed this tool for
        the session. ``edit`` travels with the question."""
        mode = mode or self.mode(tool)
        if mode == "allow":
            return Approval(True)
        if mode == "deny":
            setting = "approval." + (to_camel(tool) if tool in _BUILT_IN else "mcp")
            return Approval(
                False, f"{tool} is turned off by the approval policy ({setting} = deny); do not try it again."
            )
        if tool in self._allowed_for_session:
            return Approval(True)
        shown_edit = (
            None
            if edit is None
            else ProposedEdit(
                edit.path, None if edit.original is None else visible(edit.original), visible(edit.new_text)
            )
        )
        request = PermissionRequest(
            tool=tool, title=visible(title, multiline=False), detail=visible(detail), turn_id=turn_id, edit=shown_edit
        )
        try:
            result = await self._host.ask_permission(request)
        except Exception as error:  # the front end failed to ask: never treat that as a yes
            return Approval(False, f"Could not ask the user for permission ({error}); the action was not taken.")
        if result.decision == Decision.ALLOW_SESSION:
            self._allowed_for_session.add(tool)
            return Approval(True)
        if result.decision == Decision.ALLOW_ONCE:
            return Approval(True)
        reason = (result.reason or "").strip()
        text = "The user rejected this action"
        return Approval(False, f"{text}: {reason}" if reason else f"{text}.")

    def forget(self) -> None:
        """Drop every "allow for this session" answer (a new session starts asking again)."""
        self._allowed_for_session.clear()
