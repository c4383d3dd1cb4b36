"""What a PDF page prints, read from its content streams: text at its printed size, stroked lines.

pypdf's ``extract_text(visitor_text=)`` starts a form XObject (how Typst 0.13
places an SVG figure) with a fresh transformation matrix, so inside a figure it
reports the size the SVG asked for, not the size on the page. This walker keeps
the current transformation matrix through ``q``/``Q``, ``cm`` and a form's
``/Matrix``, as a PDF viewer does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from pypdf.generic import ContentStream

IDENTITY = np.identity(3)


@dataclass(frozen=True)
class Stroke:
    """A straight stroked segment, in page coordinates (points), with its colour and opacity."""

    start: tuple[float, float]
    end: tuple[float, float]
    rgb: tuple[float, ...]
    alpha: float

    @property
    def length(self) -> float:
        return math.dist(self.start, self.end)

    @property
    def angle(self) -> float:
        """Direction in degrees, 0 to 180 (0 horizontal, 45 rising, 135 falling)."""
        (x0, y0), (x1, y1) = self.start, self.end
        return math.degrees(math.atan2(y1 - y0, x1 - x0)) % 180


@dataclass
class PageMarks:
    """The text sizes (points, as printed) and the straight strokes of a page."""

    text_sizes: list[float] = field(default_factory=list)
    strokes: list[Stroke] = field(default_factory=list)


@dataclass
class _State:
    ctm: np.ndarray = field(default_factory=lambda: IDENTITY.copy())
    stroke_rgb: tuple[float, ...] = (0.0, 0.0, 0.0)
    stroke_alpha: float = 1.0


def _matrix(a, b, c, d, e, f) -> np.ndarray:
    return np.array([[a, b, 0], [c, d, 0], [e, f, 1]], dtype=float)


def page_marks(page) -> PageMarks:
    """Walk a pypdf page's content, and the form XObjects it draws, into :class:`PageMarks`."""
    marks = PageMarks()
    _walk(page.pdf, page.get_contents(), page.get("/Resources"), _State(), marks)
    return marks


def _walk(pdf, stream, resources, state: _State, marks: PageMarks) -> None:
    content = ContentStream(stream, pdf)
    resources = resources.get_object() if resources is not None else {}
    stack: list[_State] = []
    tm = tlm = IDENTITY
    font_size = leading = 0.0
    path: list[tuple[tuple[float, float], tuple[float, float]]] = []
    start = point = None

    def to_page(x: float, y: float) -> tuple[float, float]:
        px, py, _ = np.array([x, y, 1.0]) @ state.ctm
        return float(px), float(py)

    def show() -> None:
        rendering = tm @ state.ctm
        marks.text_sizes.append(font_size * math.hypot(rendering[1][0], rendering[1][1]))

    for operands, operator in content.operations:
        op = operator.decode("latin-1")
        values = [float(o) for o in operands if isinstance(o, (int, float))]
        if op == "q":
            stack.append(_State(state.ctm.copy(), state.stroke_rgb, state.stroke_alpha))
        elif op == "Q":
            state = stack.pop()
        elif op == "cm":
            state.ctm = _matrix(*values) @ state.ctm
        elif op == "gs":
            graphics = resources["/ExtGState"].get_object()[operands[0]].get_object()
            state.stroke_alpha = float(graphics.get("/CA", state.stroke_alpha))
        elif op == "RG" or (op in ("SC", "SCN") and len(values) == 3):
            state.stroke_rgb = tuple(values)
        elif op == "G" or (op in ("SC", "SCN") and len(values) == 1):
            state.stroke_rgb = (values[0],) * 3
        elif op == "BT":
            tm = tlm = IDENTITY
        elif op == "Tf":
            font_size = float(operands[1])
        elif op == "TL":
            leading = values[0]
        elif op == "Tm":
            tm = tlm = _matrix(*values)
        elif op in ("Td", "TD"):
            if op == "TD":
                leading = -values[1]
            tm = tlm = _matrix(1, 0, 0, 1, *values) @ tlm
        elif op == "T*":
            tm = tlm = _matrix(1, 0, 0, 1, 0, -leading) @ tlm
        elif op in ("Tj", "TJ", "'", '"'):
            if op in ("'", '"'):
                tm = tlm = _matrix(1, 0, 0, 1, 0, -leading) @ tlm
            shown = operands[0] if op == "TJ" else operands[-1:]
            if any(isinstance(o, (str, bytes)) and len(o) for o in shown):
                show()
        elif op == "m":
            start = point = to_page(*values)
        elif op == "l":
            end = to_page(*values)
            path.append((point, end))
            point = end
        elif op in ("c", "v", "y"):
            point = to_page(*values[-2:])
        elif op == "h" and point is not None and start is not None:
            path.append((point, start))
            point = start
        elif op in ("S", "s"):
            marks.strokes += [Stroke(a, b, state.stroke_rgb, state.stroke_alpha) for a, b in path]
            path = []
        elif op in ("f", "F", "f*", "B", "B*", "b", "b*", "n"):
            path = []
        elif op == "Do":
            xobject = resources["/XObject"].get_object()[operands[0]].get_object()
            if xobject.get("/Subtype") == "/Form":
                inner = _State(_matrix(*xobject.get("/Matrix", [1, 0, 0, 1, 0, 0])) @ state.ctm,
                               state.stroke_rgb, state.stroke_alpha)
                _walk(pdf, xobject, xobject.get("/Resources", resources), inner, marks)
