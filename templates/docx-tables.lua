-- Tables in Word as in the HTML, where a value cell stays on one line.
-- Word and LibreOffice end a line in a table cell wherever one may end, a
-- confidence interval's dash included ("29.9-" above "70.1%"), and pandoc gives
-- a table's columns the widths of the source's dashes or none. In every table,
-- this filter
--   * sizes the columns but the first to their longest body cell, the first
--     column taking the rest of the page; when that would leave it less than a
--     third, the others shrink alike, never below their longest word (a header's
--     included): where the page allows, a value is one line;
--   * keeps a range whole in any case, in every body cell but the first
--     column's (study.yml's range_dash is "-", "–" or " to "): a hyphen after a
--     digit becomes Word's non-breaking hyphen, an en dash is held by word
--     joiners, and the spaces of " to " and of an end in words ("7.0-not
--     reached") no-break spaces. A cell too wide for its column still wraps, at
--     a space outside its ranges.
-- Quarto runs it (format: docx: filters), and so does the built-in renderer.

-- Characters on a line of the page's text width: the report's face at 10.5 pt
-- on A4 sets about 95; fewer, so a wider face or a Letter page still fits.
local LINE = 80
local FIRST_COLUMN_AT_LEAST = 1 / 3
local PADDING = 2
local NO_BREAK_SPACE, WORD_JOINER = "\u{00A0}", "\u{2060}"

local function no_break_hyphen()
  return pandoc.RawInline("openxml", "<w:r><w:noBreakHyphen/></w:r>")
end

-- A word into `out`, a hyphen after a digit as Word's non-breaking hyphen and
-- an en dash after one between word joiners. True when the word ends in a
-- range whose upper end is words ("7.0-not"): the next space belongs to it.
local function add_word(text, out)
  text = text:gsub("(%d)–", "%1" .. WORD_JOINER .. "–" .. WORD_JOINER)
  local start, tail = 1, text:match(WORD_JOINER .. "–" .. WORD_JOINER .. "(.*)$")
  while true do
    local at = text:find("%d%-", start)
    if not at then break end
    out:insert(pandoc.Str(text:sub(start, at)))
    out:insert(no_break_hyphen())
    start = at + 2
    tail = text:sub(start)
  end
  if start <= #text then out:insert(pandoc.Str(text:sub(start))) end
  return tail ~= nil and not tail:find("[%d%),;]")
end

-- Inlines with their ranges unbreakable.
local function whole_ranges(inlines)
  local out, open = pandoc.Inlines({}), false
  for i, inline in ipairs(inlines) do
    if inline.t == "Str" then
      local continued = open and not inline.text:find("[%d%),;]")
      open = add_word(inline.text, out) or continued
      -- " to " between two numbers (or a number and "not reached"): both spaces are the range's.
      local before, after = inlines[i - 2], inlines[i + 2]
      if inline.text == "to" and out[#out - 1] and out[#out - 1].t == "Space" and before and after
          and before.t == "Str" and after.t == "Str" and before.text:find("%d%%?$") and (after.text:find("^%d") or after.text == "not") then
        out[#out - 1] = pandoc.Str(NO_BREAK_SPACE)
        open = true
      end
    elseif (inline.t == "Space" or inline.t == "SoftBreak") and open then
      out:insert(pandoc.Str(NO_BREAK_SPACE))
    else
      out:insert(inline)
    end
  end
  return out
end

-- Longest cell and longest word of each column but the first: body cells,
-- with their ranges made whole, and header words (a header may wrap).
local function measure(tbl)
  local longest, word = {}, {}
  local function words(column, text)
    for piece in text:gsub(NO_BREAK_SPACE, "_"):gmatch("%S+") do
      word[column] = math.max(word[column] or 0, utf8.len(piece) or 0)
    end
  end
  for _, body in ipairs(tbl.bodies) do
    for _, rows in ipairs({ body.head, body.body }) do
      for _, row in ipairs(rows) do
        local column = 1
        for _, cell in ipairs(row.cells) do
          if column > 1 then
            cell.contents = cell.contents:walk({ Inlines = whole_ranges })
            -- Measured with its ranges whole: a range is one word.
            local text = pandoc.utils.stringify(cell.contents:walk({ RawInline = function() return pandoc.Str("-") end }))
            longest[column] = math.max(longest[column] or 0, utf8.len(text) or 0)
            words(column, text)
          end
          column = column + cell.col_span
        end
      end
    end
  end
  for _, row in ipairs(tbl.head.rows) do
    local column = 1
    for _, cell in ipairs(row.cells) do
      if column > 1 then words(column, pandoc.utils.stringify(cell.contents)) end
      column = column + cell.col_span
    end
  end
  return longest, word
end

function Table(tbl)
  local columns = #tbl.colspecs
  if columns < 2 then return nil end
  local longest, word = measure(tbl)
  -- Cells shrink together to leave the first column its share, never below their longest word;
  -- PADDING is the cell's margins, in characters.
  local room, text = (1 - FIRST_COLUMN_AT_LEAST) * LINE - PADDING * (columns - 1), 0
  for column = 2, columns do text = text + (longest[column] or 0) end
  local scale = text > 0 and math.min(1, room / text) or 1
  local widths, total = {}, 0
  for column = 2, columns do
    widths[column] = (math.max((longest[column] or 0) * scale, word[column] or 0) + PADDING) / LINE
    total = total + widths[column]
  end
  -- Words too long for the page: the table still fits it, a word breaking where it must.
  local fit = math.min(1, (1 - FIRST_COLUMN_AT_LEAST / 2) / total)
  for column = 2, columns do
    tbl.colspecs[column] = { tbl.colspecs[column][1], widths[column] * fit }
  end
  tbl.colspecs[1] = { tbl.colspecs[1][1], 1 - total * fit }
  return tbl
end
