"""Approvals: allow / deny / ask per tool, "allow for this session" remembered per tool."""

from __future__ import annotations

from agent_core.approvals import Approvals
from agent_core.config import ApprovalConfig
from agent_core.host import PermissionRequest, PermissionResult
from tests.fakes.doubles import ALLOW_ONCE, ALLOW_SESSION, RecordingHost, reject


async def test_allow_and_deny_never_ask() -> None:
    host = RecordingHost()
    approvals = Approvals(ApprovalConfig(edit_file="allow", run_command="deny"), host)
    assert (await approvals.check("edit_file", "Edit a", "diff", "t")).allowed
    denied = await approvals.check("run_command", "Run: ls", "ls", "t")
    assert not denied.allowed and "approval.runCommand = deny" in (denied.message or "")
    assert host.permission_requests == []


async def test_ask_once_asks_every_time() -> None:
    host = RecordingHost(decisions=[ALLOW_ONCE, ALLOW_ONCE])
    approvals = Approvals(ApprovalConfig(), host)
    for _ in range(2):
        assert (await approvals.check("run_command", "Run: ls", "ls\n\nWorking directory: .", "t7")).allowed
    assert len(host.permission_requests) == 2
    assert host.permission_requests[0] == PermissionRequest(
        "run_command", "Run: ls", "ls\n\nWorking directory: .", "t7"
    )


async def test_allow_for_session_is_remembered_per_tool_and_forgotten_on_request() -> None:
    host = RecordingHost(decisions=[ALLOW_SESSION, ALLOW_ONCE, ALLOW_ONCE])
    approvals = Approvals(ApprovalConfig(), host)
    assert (await approvals.check("edit_file", "Edit a", "d", "t")).allowed
    assert (await approvals.check("edit_file", "Edit b", "d", "t")).allowed  # not asked again
    assert (await approvals.check("run_command", "Run: ls", "ls", "t")).allowed  # other tool: asked
    assert [r.tool for r in host.permission_requests] == ["edit_file", "run_command"]
    approvals.forget()
    assert (await approvals.check("edit_file", "Edit c", "d", "t")).allowed
    assert len(host.permission_requests) == 3


async def test_rejection_carries_the_reason_or_says_none_was_given() -> None:
    host = RecordingHost(decisions=[reject("not now"), reject(None)])
    approvals = Approvals(ApprovalConfig(), host)
    with_reason = await approvals.check("edit_file", "Edit a", "d", "t")
    assert not with_reason.allowed and with_reason.message == "The user rejected this action: not now"
    without = await approvals.check("edit_file", "Edit a", "d", "t")
    assert without.message == "The user rejected this action."


async def test_a_host_that_fails_to_ask_means_no() -> None:
    class BrokenHost(RecordingHost):
        async def ask_permission(self, request: PermissionRequest) -> PermissionResult:
            raise ConnectionError("client went away")

    result = await Approvals(ApprovalConfig(), BrokenHost()).check("run_command", "Run: rm -rf x", "rm -rf x", "t")
    assert not result.allowed and "client went away" in (result.message or "")


async def test_policy_can_be_replaced_at_run_time() -> None:
    host = RecordingHost()
    approvals = Approvals(ApprovalConfig(run_command="deny"), host)
    approvals.policy = ApprovalConfig(run_command="allow")
    assert (await approvals.check("run_command", "Run: ls", "ls", "t")).allowed
