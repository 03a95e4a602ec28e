"""User-facing errors.

A `TwowayError` carries a message meant for a person: the CLI prints it as one line and the
dashboard shows it in a notice. It subclasses `ValueError` so library callers that pass bad
arguments get the conventional exception type.
"""


class TwowayError(ValueError):
    """A mistake in the user's input (file, argument, URL parameter), explained in one line."""
