"""Command line: ``python -m renderer report.qmd [--output-dir DIR] [--to html,pdf,docx]
[--renderer auto|builtin|quarto]``; the project's pre-render commands (the data checks) run first.

Exit status: 0 rendered or already up to date; 1 the render failed; a failed
pre-render command's own status; 128 + the signal's number when interrupted
(130 for Ctrl-C, 143 for SIGTERM). In every case but success the output
folder is as it was.
"""

from __future__ import annotations

import signal

# Until main() runs there is nothing to clean up: Ctrl-C just ends the process,
# without the traceback of whichever import it interrupted.
if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_DFL)

import argparse  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

from renderer.build import RECORD, RENDERERS, inputs_digest, up_to_date  # noqa: E402
from renderer.config import project_output_dir  # noqa: E402
from renderer.errors import GateFailed, RenderError  # noqa: E402


class Interrupted(BaseException):
    """A signal asked the render to stop (as KeyboardInterrupt does for SIGINT)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _interrupt(signum: int, frame) -> None:
    raise Interrupted(signum)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, render, print one line per stage; return the exit status.

    Examples
    --------
    >>> main(["/nonexistent/report.qmd", "--renderer", "builtin"])
    1
    """
    parser = argparse.ArgumentParser(prog="python -m renderer", description=__doc__.splitlines()[0])
    parser.add_argument("document", type=Path, help="the .qmd file")
    parser.add_argument("--output-dir", type=Path, default=None,
                        help="where outputs go (default: project output-dir, else the document's folder)")
    parser.add_argument("--to", default="html,pdf,docx", help="comma-separated: html, pdf, docx")
    parser.add_argument("--renderer", choices=RENDERERS, default=os.environ.get("RENDERER") or "auto",
                        help="default: $RENDERER, else auto (quarto if installed)")
    args = parser.parse_args(argv)
    for variable in ("DATA", "REDCAP_DICTIONARY"):
        if os.environ.get(variable):
            # The pre-render step and the kernel run in the study's folder: these paths are from here.
            os.environ[variable] = os.path.abspath(os.environ[variable])
    formats = tuple(f.strip() for f in args.to.split(",") if f.strip())
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # An interrupt can land inside jupyter_client's synchronous wrappers, between making a
    # coroutine and running it; Python's "never awaited" warning would then bury the one line
    # that says what happened.
    warnings.filterwarnings("ignore", message="coroutine .* was never awaited", category=RuntimeWarning)
    # Likewise a task the interrupt left pending fails when the kernel's channels close, and asyncio
    # logs that ("Task exception was never retrieved") after the line; the renderer reports kernel
    # failures itself, so asyncio's own log is not needed.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    target = None
    try:
        if not args.document.is_file():
            raise RenderError(f"{args.document}: no such file")
        target = Path(args.output_dir or project_output_dir(args.document) or args.document.parent).resolve()
        # Answered before anything heavy is imported: an unchanged build costs a tenth of a second.
        if up_to_date(target, inputs_digest(args.document.resolve(), args.renderer, formats)):
            print(f"up to date: {target} was built from exactly these inputs ({RECORD})")
            return 0
        from renderer.render import render

        render(args.document, args.output_dir, formats, args.renderer, log=lambda line: print(line, flush=True))
    except GateFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.returncode
    except RenderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if exc.detail:
            print(exc.detail, file=sys.stderr)
        return 1
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}; nothing was published", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Interrupted) as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        print(f"interrupted ({signal.Signals(signum).name}): nothing was published; "
              f"{target or 'the output folder'} is as it was", file=sys.stderr)
        return 128 + signum
    return 0


if __name__ == "__main__":
    sys.exit(main())
