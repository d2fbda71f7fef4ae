"""The kit's own exception types: callers recognise an error by its type, never by its text."""

from __future__ import annotations


class NonFiniteError(ValueError):
    """An array holds NaN or inf where finite numbers are required.

    A ``ValueError`` (the value is wrong, not its type), so existing
    ``except ValueError`` handlers keep working. Training loops catch this type
    to tell a numerical blow-up from a mistake in the arguments.

    Attributes
    ----------
    name : str
        The argument or quantity that holds the non-finite value.
    count : int
        How many entries are NaN or inf.
    """

    def __init__(self, message: str, *, name: str = "", count: int = 0):
        super().__init__(message)
        self.name = name
        self.count = count
