"""Render a Quarto document without the Quarto CLI (Jupyter kernel + pandoc + Typst).

`make report` calls ``python -m renderer report.qmd``; with a ``quarto`` 1.4+ on
PATH it delegates to ``quarto render`` unless told otherwise. The supported
Quarto subset is listed in renderer/README.md.
"""

from renderer.errors import RenderError

__all__ = ["RenderError", "RenderResult", "render"]


def __getattr__(name: str):
    # `render` pulls in Jupyter, pandoc and Typst: imported when used, so that
    # `python -m renderer` can answer "up to date" without them.
    if name in ("render", "RenderResult"):
        import importlib

        module = importlib.import_module("renderer.render")
        # Importing the submodule bound the package's `render` to it; the function is what is exported.
        globals().update(render=module.render, RenderResult=module.RenderResult)
        return globals()[name]
    raise AttributeError(name)
