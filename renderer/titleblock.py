"""Authors and affiliations, normalised the way Quarto does it.

Quarto turns `author` / `affiliations` into `by-author` (each author with its
affiliations expanded) and `by-affiliation`; templates read those. The
built-in renderer produces the same keys so that the project's Typst partials
work unchanged under both renderers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from renderer.errors import RenderError


@dataclass(frozen=True)
class Affiliation:
    """An affiliation with its mark (1, 2, ... in order of first mention)."""

    id: str
    name: str
    number: int


@dataclass(frozen=True)
class Author:
    """An author and the ids of their affiliations, in the order given."""

    name: str
    affiliation_ids: tuple[str, ...]


@dataclass(frozen=True)
class Byline:
    """Authors and affiliations of a document."""

    authors: tuple[Author, ...]
    affiliations: tuple[Affiliation, ...]

    def marks(self, author: Author) -> str:
        """Superscript marks of an author, e.g. ``'1,2'``."""
        numbers = {a.id: a.number for a in self.affiliations}
        return ",".join(str(numbers[i]) for i in author.affiliation_ids)

    def to_metadata(self) -> dict[str, Any]:
        """Quarto's normalised keys: `by-author`, `by-affiliation`, `affiliations`, `author`."""
        by_id = {a.id: a for a in self.affiliations}
        affiliations = [{"id": a.id, "name": a.name, "number": a.number} for a in self.affiliations]
        return {
            "author": [a.name for a in self.authors],
            "by-author": [
                {
                    "name": {"literal": a.name},
                    "affiliations": [
                        {"id": i, "name": by_id[i].name, "number": by_id[i].number}
                        for i in a.affiliation_ids
                    ],
                    "number": n,
                }
                for n, a in enumerate(self.authors, start=1)
            ],
            "by-affiliation": affiliations,
            "affiliations": affiliations,
        }


def normalise_byline(metadata: dict[str, Any], source: str) -> Byline:
    """Read `author` (or `authors`) and `affiliations` from metadata.

    Parameters
    ----------
    metadata : dict
        Merged document metadata.
    source : str
        Named in error messages (the document path).

    Returns
    -------
    Byline

    Raises
    ------
    RenderError
        If an author refers to an affiliation id that is not defined.

    Examples
    --------
    >>> meta = {"author": [{"name": "A. Smith", "affiliations": [{"ref": "u2"}, {"ref": "u1"}]},
    ...                    "B. Jones"],
    ...         "affiliations": [{"id": "u1", "name": "Uni One"}, {"id": "u2", "name": "Uni Two"}]}
    >>> byline = normalise_byline(meta, "doc.qmd")
    >>> [(a.id, a.number) for a in byline.affiliations]
    [('u2', 1), ('u1', 2)]
    >>> byline.marks(byline.authors[0]), byline.marks(byline.authors[1])
    ('1,2', '')
    """
    raw_authors = metadata.get("author", metadata.get("authors")) or []
    if isinstance(raw_authors, (str, dict)):
        raw_authors = [raw_authors]
    declared: dict[str, str] = {}
    for i, raw in enumerate(metadata.get("affiliations") or [], start=1):
        if isinstance(raw, str):
            raw = {"name": raw}
        declared[str(raw.get("id", f"aff-{i}"))] = str(raw.get("name", ""))
    authors = []
    for raw in raw_authors:
        if isinstance(raw, str):
            authors.append(Author(name=raw, affiliation_ids=()))
            continue
        name = _name(raw.get("name", ""))
        ids = []
        refs = raw.get("affiliations", raw.get("affiliation")) or []
        for ref in refs if isinstance(refs, list) else [refs]:
            if isinstance(ref, dict) and "ref" in ref:
                ref_id = str(ref["ref"])
                if ref_id not in declared:
                    raise RenderError(f"{source}: undefined affiliation '{ref_id}' for author '{name}'")
            else:
                ref_name = ref if isinstance(ref, str) else str(ref.get("name", ""))
                ref_id = next((k for k, v in declared.items() if v == ref_name), None)
                if ref_id is None:
                    ref_id = str(ref.get("id")) if isinstance(ref, dict) and "id" in ref else f"aff-{len(declared) + 1}"
                    declared[ref_id] = ref_name
            ids.append(ref_id)
        authors.append(Author(name=name, affiliation_ids=tuple(ids)))
    order = [i for a in authors for i in a.affiliation_ids]
    order += list(declared)
    numbered: dict[str, int] = {}
    for ref_id in order:
        numbered.setdefault(ref_id, len(numbered) + 1)
    affiliations = tuple(Affiliation(i, declared[i], n) for i, n in numbered.items())
    return Byline(authors=tuple(authors), affiliations=affiliations)


def _name(raw: Any) -> str:
    if isinstance(raw, dict):
        if "literal" in raw:
            return str(raw["literal"])
        return " ".join(str(raw[k]) for k in ("given", "family") if raw.get(k))
    return str(raw)
