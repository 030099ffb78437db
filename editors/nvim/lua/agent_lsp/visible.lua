---Text from the model, a file or the workspace, made fit to show to a person who has to judge it.
---
---A picker or a buffer shows what it is given: a carriage return or an escape sequence can hide
---part of a line, bidi overrides reorder it ("Trojan Source"), zero-width characters make two
---different names look the same. `M.text` writes every such character as a visible escape
---(`\x1b`, `\r`, `\u202e`), the same set and the same spelling as the server's
---`agent_core/visible_text.py`, which already escapes approval titles and details; checkpoint
---prompts, paths and diffs are escaped here before they are shown.
local M = {}

---Code point ranges of the Unicode categories Cc, Cf, Zl, Zp, Cs and the blank Hangul fillers
---(`HIDDEN_RANGES` of agent_core/visible_text.py).
---@type integer[][]
M.hidden_ranges = {
  { 0x0000, 0x001F },
  { 0x007F, 0x009F },
  { 0x00AD, 0x00AD },
  { 0x0600, 0x0605 },
  { 0x061C, 0x061C },
  { 0x06DD, 0x06DD },
  { 0x070F, 0x070F },
  { 0x0890, 0x0891 },
  { 0x08E2, 0x08E2 },
  { 0x115F, 0x1160 },
  { 0x180E, 0x180E },
  { 0x200B, 0x200F },
  { 0x2028, 0x202E },
  { 0x2060, 0x2064 },
  { 0x2066, 0x206F },
  { 0x3164, 0x3164 },
  { 0xD800, 0xDFFF },
  { 0xFEFF, 0xFEFF },
  { 0xFFA0, 0xFFA0 },
  { 0xFFF9, 0xFFFB },
  { 0x110BD, 0x110BD },
  { 0x110CD, 0x110CD },
  { 0x13430, 0x1343F },
  { 0x1BCA0, 0x1BCA3 },
  { 0x1D173, 0x1D17A },
  { 0xE0001, 0xE0001 },
  { 0xE0020, 0xE007F },
}

---@param code integer
---@return boolean
local function hidden(code)
  for _, range in ipairs(M.hidden_ranges) do
    if code >= range[1] and code <= range[2] then
      return true
    end
  end
  return false
end

---Length of the UTF-8 sequence a lead byte starts (nil: not a lead byte).
---@param byte integer
---@return integer?
local function sequence_length(byte)
  if byte < 0x80 then
    return 1
  elseif byte >= 0xC2 and byte <= 0xDF then
    return 2
  elseif byte >= 0xE0 and byte <= 0xEF then
    return 3
  elseif byte >= 0xF0 and byte <= 0xF4 then
    return 4
  end
  return nil
end

---The code point of the UTF-8 sequence at byte `i` of `text` and its length, or nil when the
---bytes there are not valid UTF-8.
---@param text string
---@param i integer
---@return integer? code
---@return integer length
local function decode(text, i)
  local b1 = text:byte(i)
  local n = sequence_length(b1)
  if not n or i + n - 1 > #text then
    return nil, 1
  end
  local code = n == 1 and b1 or b1 % (2 ^ (7 - n))
  for k = 1, n - 1 do
    local b = text:byte(i + k)
    if b < 0x80 or b > 0xBF then
      return nil, 1
    end
    code = code * 0x40 + b % 0x40
  end
  return code, n
end

local named = { ["\r"] = "\\r", ["\n"] = "\\n" }

---One character as a visible escape: `\r`, `\x1b`, `\u202e`, `\U000e0041`.
---@param char string
---@param code integer
---@return string
local function escape(char, code)
  if named[char] then
    return named[char]
  elseif code < 0x100 then
    return ("\\x%02x"):format(code)
  elseif code < 0x10000 then
    return ("\\u%04x"):format(code)
  end
  return ("\\U%08x"):format(code)
end

---`text` with every invisible or display-controlling character written as an escape. With
---`multiline`, line feeds (a CRLF counts as one) and tabs stay; without it only tabs do. A byte
---that is not part of valid UTF-8 is escaped too (`\xff`).
---@param text string
---@param multiline boolean?
---@return string
function M.text(text, multiline)
  if multiline then
    text = text:gsub("\r\n", "\n")
  end
  local out = {}
  local i = 1
  while i <= #text do
    local code, n = decode(text, i)
    local char = text:sub(i, i + n - 1)
    if not code then
      table.insert(out, ("\\x%02x"):format(text:byte(i)))
    elseif char == "\t" or (multiline and char == "\n") or not hidden(code) then
      table.insert(out, char)
    else
      table.insert(out, escape(char, code))
    end
    i = i + n
  end
  return table.concat(out)
end

---`text` on one line, escaped: what a picker row or a float title can show.
---@param text string
---@return string
function M.one_line(text)
  return M.text(text, false)
end

return M
