"""Exceptions for bad input, and how everything else is reported.

One family, :class:`TfdError`, is raised where input is read (specs, parameters, files,
sizes, a user's own mechanism); every message says what was wrong and what is accepted.
The CLI prints exactly these on one line and exits with status 2, and the explorer shows
them on the page. Anything else is a bug: :func:`internal_error` saves its traceback to a
file and gives one line that says so (the CLI exits with status 70, EX_SOFTWARE). All
derive from ``ValueError`` so that library users can catch them the ordinary way.
"""

import os
import tempfile
import time
import traceback

#: the CLI's exit status for an internal error (sysexits.h's EX_SOFTWARE)
EXIT_INTERNAL = 70


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


class AuditCancelled(TfdError):
    """An audit stopped on request (the explorer's Cancel button, or its page closed)."""


def internal_error(exc: BaseException, where: str = "tfd") -> tuple[str, str | None]:
    """(one line, path of the saved traceback) for an exception that is not a :class:`TfdError`.

    The traceback goes to ``$TFD_CRASH_DIR`` (default: the system's temporary folder) as
    ``tfd-internal-error-<time>-<pid>.txt``; if that cannot be written the line says so.
    """
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    folder = os.environ.get("TFD_CRASH_DIR") or tempfile.gettempdir()
    path = os.path.join(folder, f"tfd-internal-error-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.txt")
    try:
        os.makedirs(folder, exist_ok=True)
        with open(path, "w") as f:
            f.write(f"{where}: internal error\n{text}")
    except OSError:
        path = None
    what = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no message'}"
    saved = f"traceback saved to {path}" if path else "the traceback could not be saved"
    return f"internal error (a bug in tfd, not in your input): {what}; {saved}; please report it", path
