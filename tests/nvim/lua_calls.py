"""Run the Lua halves of the Neovim tests, kept as files in tests/nvim/lua/, inside the editor.

The Lua a test runs in Neovim lives in `.lua` files rather than Python strings, so luacheck, StyLua
and LuaLS read it like the plugin's own code (scripts/lint-nvim.sh checks both). Each file returns
a table of functions; `call(editor, "plugin_units.setup_twice", *args)` loads the file in the
editor, calls that function with `args` (None as nil) and returns its result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

LUA_DIR = Path(__file__).resolve().parent / "lua"

# Python's None arrives as vim.NIL; the Lua functions take it as nil (an absent argument).
_CALL = """
local path, name = ...
local functions = dofile(path)
local fn = functions[name]
assert(type(fn) == "function", path .. " has no function " .. name)
local args = { n = select("#", ...) - 2, select(3, ...) }
for i = 1, args.n do
  if args[i] == vim.NIL then
    args[i] = nil
  end
end
return fn(unpack(args, 1, args.n))
"""


class RunsLua(Protocol):
    def lua(self, code: str, *args: Any) -> Any: ...


def call(editor: RunsLua, name: str, *args: Any) -> Any:
    """Call `module.function` of tests/nvim/lua/module.lua in the editor with `args`."""
    module, function = name.split(".", 1)
    path = LUA_DIR / f"{module}.lua"
    if not path.is_file():
        raise FileNotFoundError(path)
    return editor.lua(_CALL, str(path), function, *args)
