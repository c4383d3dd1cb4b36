-- Quarto's DOCX title block has the title and authors only. This filter adds
-- what the built-in renderer's DOCX shows below them: the journal and
-- conference line, the numbered affiliations and the DOI, in the same Word
-- styles (Header Line, Affiliation, DOI), so a reference document restyles both.
-- Quarto runs it (format: docx: filters); the built-in renderer writes the
-- same paragraphs itself and does not run it.

local function styled(style, inlines)
  return pandoc.Div({ pandoc.Para(inlines) }, { ["custom-style"] = style })
end

local function text(value)
  return value and pandoc.utils.stringify(value) or nil
end

function Pandoc(doc)
  local meta = doc.meta
  -- The document's subject (Word's core properties) is the conference unless given.
  if not meta.subject and meta.conference then
    meta.subject = meta.conference
  end
  local blocks = {}
  local journal = meta.journal and text(meta.journal.title)
  local header = {}
  for _, part in ipairs({ journal, text(meta.conference) }) do
    if part and part ~= "" then table.insert(header, part) end
  end
  if #header > 0 then
    table.insert(blocks, styled("Header Line", { pandoc.Str(table.concat(header, " · ")) }))
  end
  for number, affiliation in ipairs(meta["by-affiliation"] or {}) do
    table.insert(blocks, styled("Affiliation", {
      pandoc.Superscript({ pandoc.Str(tostring(number)) }), pandoc.Space(), pandoc.Str(text(affiliation.name)),
    }))
  end
  local doi = text(meta.doi)
  if doi then
    table.insert(blocks, styled("DOI", {
      pandoc.Str("DOI:"), pandoc.Space(), pandoc.Link({ pandoc.Str(doi) }, "https://doi.org/" .. doi),
    }))
  end
  doc.blocks = pandoc.List(blocks) .. doc.blocks
  return doc
end
