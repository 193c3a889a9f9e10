"""The one exception type the data layer raises for bad input.

Every message names *where* (file or series, row or date) and *what was expected*, so a
quant who sees it in a cron log can fix the input without reading the code.
"""

from __future__ import annotations


class DataError(ValueError):
    """Bad or missing input data.

    Attributes mirror the message so tests and callers can check them without parsing text.
    """

    def __init__(
        self,
        source: str,
        problem: str,
        *,
        where: str | None = None,
        expected: str | None = None,
    ) -> None:
        self.source = source
        self.problem = problem
        self.where = where
        self.expected = expected
        parts = [f"{source}: {problem}"]
        if where:
            parts.append(f"at {where}")
        if expected:
            parts.append(f"(expected {expected})")
        super().__init__(" ".join(parts))


def user_error(exc: BaseException, debug: bool = False, context: str = "") -> int:
    """Tell the user what is wrong in one line (exit status 2); with ``--debug`` also the
    traceback, for a bug report."""
    import sys
    import traceback

    print(f"error: {context}{exc}", file=sys.stderr)
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    return 2


DEBUG_HELP = "on an error, also print the Python traceback (for a bug report)"
