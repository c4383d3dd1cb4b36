"""The one exception the renderer raises for anything the user can fix."""


class RenderError(Exception):
    """A render failed; the message names the file, line and rule.

    Parameters
    ----------
    message : str
        One or two readable lines: where (file:line, cell label) and what.
    detail : str, optional
        Longer context printed after the message (e.g. the user-code part of
        a traceback).

    Examples
    --------
    >>> err = RenderError("report.qmd:3: unknown cell option 'fig-widht'")
    >>> str(err)
    "report.qmd:3: unknown cell option 'fig-widht'"
    >>> err.detail
    ''
    """

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class GateFailed(RenderError):
    """A pre-render command (the data checks) failed; it has said why.

    Attributes
    ----------
    returncode : int
        The command's exit status, which the command line passes on.
    """

    def __init__(self, command: str, returncode: int) -> None:
        super().__init__(f"nothing rendered: the pre-render step '{command}' failed (exit {returncode}); "
                         "earlier outputs are unchanged")
        self.returncode = returncode
