"""Exceptions for bad input.

Every message says what was wrong and what is accepted; the CLI prints it on one
line and exits with status 2. All derive from ``ValueError`` so that library users
can catch them the ordinary way.
"""


class TfdError(ValueError):
    """Invalid input to the testbed."""


class PriorSpecError(TfdError):
    """A prior specification that cannot be parsed or does not describe a valid prior."""


class MechanismError(TfdError):
    """An unknown mechanism, bad mechanism parameters, or bids it cannot allocate."""


class StrategyError(TfdError):
    """An unknown strategy or bad strategy parameters."""


def did_you_mean(name: str, choices) -> str:
    """" (did you mean 'pick-r'?)" when a close name exists, else "" (difflib's ratio >= 0.6)."""
    import difflib

    close = difflib.get_close_matches(str(name).strip().lower(), [str(c) for c in choices], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
