"""Reading a command's one argument object into its wire model, with errors that name the field.

Every command takes one JSON object (none means ``{}``). A malformed one gets a JSON-RPC
``InvalidParams`` error naming the command, the field and what it must be (the field's
``description`` in :mod:`lsp_server.wire`), e.g. ``agent.inlineEdit: 'range.start.character'
must be an integer from 0 to 2147483647``; the server keeps serving. :class:`RequestFailed` is the error
of a well-formed request that cannot be done now.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from lsp_server.wire import Arguments

#: LSP's "the request was valid but failed" code (LSP 3.17 ``RequestFailed``).
REQUEST_FAILED = -32803


class RequestFailed(JsonRpcException):
    """A well-formed request that cannot be done now (busy, unknown session, bad settings)."""

    CODE = REQUEST_FAILED
    MESSAGE = "Request failed"


A = TypeVar("A", bound=Arguments)


def parse_arguments(command: str, model: type[A], args: Sequence[Any]) -> A:
    """The command's one argument object (none means ``{}``) as ``model``, or InvalidParams
    naming the command, the field and what it must be."""
    if not args:
        args = [{}]
    if len(args) > 1 or not isinstance(args[0], dict):
        raise invalid_params(command, "expected one argument object, e.g. arguments: [{...}]")
    try:
        return model.model_validate(args[0])
    except ValidationError as error:
        raise invalid_params(command, _describe(model, error.errors()[0])) from None


def invalid_params(command: str, message: str) -> JsonRpcInvalidParams:
    return JsonRpcInvalidParams(f"{command}: {message}")


def _describe(model: type[BaseModel], error: ErrorDetails) -> str:
    """``'a.b' must be <the field's description>``, or the message of a check of our own."""
    names: list[str] = []
    field: FieldInfo | None = None
    current: type[BaseModel] | None = model
    for part in error["loc"]:
        if isinstance(part, int) or current is None:
            continue  # an item of a list: the list's own description applies
        found = next(((n, f) for n, f in current.model_fields.items() if part in (n, f.alias)), None)
        if found is None:
            break
        name, field = found
        names.append(field.alias or name)
        current = _model_in(field.annotation)
    path = ".".join(names)
    if error["type"] == "range_order":
        return f"'{path}' {error['msg']}"
    expected = field.description if field is not None and field.description else "valid"
    return f"'{path}' must be {expected}"


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds (``Range`` for ``Range | None``), if any."""
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None
