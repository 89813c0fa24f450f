"""The one exception the evidence library raises for bad input."""

from __future__ import annotations


class OutcomeTableError(ValueError):
    """An outcome table (or its parameters) cannot be analysed.

    The message is one line and says what is wrong and where (column, patient, row),
    so that a command line can print it as it is.
    """
