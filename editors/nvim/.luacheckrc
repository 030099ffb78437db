-- luacheck for the plugin and the Lua halves of its tests (tests/nvim/lua), run by
-- scripts/lint-nvim.sh from the test command. Neovim embeds LuaJIT and provides `vim`.
std = "luajit"
globals = { "vim" }
max_line_length = 120
-- The chat view and the inline proposal answer the same turn events (`view:on_text(...)`); a
-- method that needs no state of its own still takes `self`.
self = false
