"""Render a Quarto document without the Quarto CLI (Jupyter kernel + pandoc + Typst).

`make report` calls ``python -m renderer report.qmd``; with a ``quarto`` 1.4+ on
PATH it delegates to ``quarto render`` unless told otherwise. The supported
Quarto subset is listed in renderer/README.md.
"""

from renderer.errors import RenderError
from renderer.render import RenderResult, render

__all__ = ["RenderError", "RenderResult", "render"]
