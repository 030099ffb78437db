"""What every tool shares: its result type, the context it runs in, argument schemas, output caps.

A tool never raises to the loop: anything that goes wrong becomes a :class:`ToolOutcome` with
``is_error=True`` whose text tells the model what happened and what to do instead. Inside a tool,
raising :class:`ToolError` (or ``PathRefused``) is the short way to say that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from agent_core.approvals import Approvals
from agent_core.config import AgentConfig
from agent_core.host import Host
from agent_core.providers.tool_call_assembly import INVALID_ARGUMENTS_KEY
from agent_core.tools.errors import ToolError
from agent_core.tools.workspace import Workspace

if TYPE_CHECKING:
    from agent_core.checkpoints.recorder import TurnCheckpoint


@dataclass(frozen=True)
class ToolOutcome:
    """A tool's result as the model will read it."""

    output: str
    is_error: bool = False


@dataclass
class ToolContext:
    """Everything one tool call may use. ``started`` is called once the call passed approval (or
    needed none) and really starts, so the front end can show it as running."""

    workspace: Workspace
    host: Host
    config: AgentConfig
    approvals: Approvals
    turn_id: str
    started: Callable[[], None]
    #: The turn's checkpoint (None: checkpoints are off, or the call is not part of a chat turn).
    checkpoint: TurnCheckpoint | None = None


class ToolArgs(BaseModel):
    """Base of every tool's argument model: unknown argument names are errors the model sees
    (a misspelt ``file`` for ``path`` should not silently do something else)."""

    model_config = ConfigDict(extra="forbid")


class Tool:
    """One tool: a name, a description for the model, an argument model, and ``run``."""

    name: ClassVar[str]
    description: ClassVar[str]
    #: One line for models that get the compact prompt (small local ones); the argument names
    #: must explain the rest.
    brief: ClassVar[str]
    args: ClassVar[type[ToolArgs]]

    async def run(self, args: Any, ctx: ToolContext) -> ToolOutcome:
        raise NotImplementedError

    def schema(self) -> dict[str, Any]:
        """The JSON schema of the arguments, simplified for models (no titles, no null unions)."""
        return _simplify(self.args.model_json_schema())

    def parse(self, arguments: dict[str, Any]) -> Any:
        """Validate the model's arguments; a :class:`ToolError` lists every problem at once."""
        if INVALID_ARGUMENTS_KEY in arguments:  # the provider could not parse the JSON at all
            raw = str(arguments[INVALID_ARGUMENTS_KEY])
            shown = raw if len(raw) <= 200 else raw[:200] + "..."
            fields = ", ".join(self.args.model_fields)
            raise ToolError(
                f"The arguments for {self.name} were not a valid JSON object: {shown!r}. "
                f"Send a JSON object with: {fields}."
            )
        try:
            return self.args.model_validate(arguments)
        except ValidationError as error:
            problems = []
            for item in error.errors():
                where = ".".join(str(part) for part in item["loc"]) or "arguments"
                problems.append(f"{where}: {item['msg']}")
            allowed = ", ".join(self.args.model_fields)
            raise ToolError(
                f"Invalid arguments for {self.name}: {'; '.join(problems)}. Arguments: {allowed}."
            ) from None


def _simplify(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop pydantic's titles and turn ``anyOf: [X, null]`` into ``X``: small models follow a
    plain schema better, and an optional argument is simply one not listed in ``required``."""
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" or (key == "default" and value is None):
            continue
        if key == "anyOf" and isinstance(value, list):
            kinds = [option for option in value if option != {"type": "null"}]
            if len(kinds) == 1:
                out.update(_simplify(kinds[0]))
                continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _simplify(prop) for name, prop in value.items()}
        elif isinstance(value, dict):
            out[key] = _simplify(value)
        else:
            out[key] = value
    return out


def cap_text(text: str, cap: int, what: str = "output") -> str:
    """``text`` cut to about ``cap`` characters keeping its head and tail (where errors and
    summaries usually are), with a note in the middle saying how much was left out."""
    if len(text) <= cap:
        return text
    half = cap // 2
    omitted = len(text) - 2 * half
    return f"{text[:half]}\n[... {omitted} characters of {what} omitted ...]\n{text[-half:]}"
