"""Command line: ``python -m renderer report.qmd [--output-dir DIR] [--to html,pdf,docx]
[--renderer auto|builtin|quarto]``; the project's pre-render commands (the data checks) run first."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from renderer.errors import GateFailed, RenderError
from renderer.render import RENDERERS, render


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, render, print one line per stage; return the exit status.

    Examples
    --------
    >>> main(["/nonexistent/report.qmd", "--renderer", "builtin"])
    1
    """
    parser = argparse.ArgumentParser(prog="python -m renderer", description=__doc__)
    parser.add_argument("document", type=Path, help="the .qmd file")
    parser.add_argument("--output-dir", type=Path, default=None,
                        help="where outputs go (default: project output-dir, else the document's folder)")
    parser.add_argument("--to", default="html,pdf,docx", help="comma-separated: html, pdf, docx")
    parser.add_argument("--renderer", choices=RENDERERS, default=os.environ.get("RENDERER") or "auto",
                        help="default: $RENDERER, else auto (quarto if installed)")
    args = parser.parse_args(argv)
    formats = tuple(f.strip() for f in args.to.split(",") if f.strip())
    try:
        render(args.document, args.output_dir, formats, args.renderer,
               log=lambda line: print(line, flush=True))
    except GateFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.returncode
    except RenderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if exc.detail:
            print(exc.detail, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
