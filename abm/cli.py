"""The ``tfd`` command: argument parsing and error reporting only.

Subcommands live in :mod:`abm.commands`. Bad input (a :class:`~abm.errors.TfdError`)
prints one line, ``tfd: error: ...``, on stderr and exits with status 2; a file that cannot
be written or read (an ``OSError``: no space, no permission, a folder in the way) prints one
line naming the path and the reason and exits with status 74 (:mod:`abm.files`); any other
exception is a bug, reported in one line with the path of its saved traceback, exit 70. A
command that fails leaves no ``--out`` folder it created.
"""

from __future__ import annotations

import argparse
import re
import sys

__all__ = ["main", "build_parser"]


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's help ends with its default, also options without help text."""

    def _get_help_string(self, action):
        text = action.help or ""
        d = action.default
        shown = not (d is None or d is False or d is argparse.SUPPRESS or d == [])
        if shown and "%(default)" not in text and action.option_strings and "default" not in text:
            text += (" " if text else "") + "(default: %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs["formatter_class"] = _Help
        super().__init__(*args, **kwargs)

    def add_argument(self, *args, **kwargs):
        # argparse shows no help line (so no default) for an option without help text
        default = kwargs.get("default")
        shown = not (default is None or default is False or default is argparse.SUPPRESS or default == [])
        if kwargs.get("help") is None and args and str(args[0]).startswith("--") and shown and \
                kwargs.get("action") not in ("store_true", "version"):
            kwargs["help"] = "(default: %(default)s)"
        return super().add_argument(*args, **kwargs)

    def error(self, message):  # one line, exit 2, no usage dump
        raise SystemExit(_fail(f"{self.prog.split(maxsplit=1)[-1]}: {message}"))


_NEGATIVE = re.compile(r"^-(\d|\.\d|inf\b|nan\b)")


def _attach_negative_values(argv: list[str]) -> list[str]:
    """``--r -0.2,1.2`` becomes ``--r=-0.2,1.2``: argparse would read a value that starts
    with '-' (and is not a plain number) as an option; here it is the option's value, to be
    checked (and refused with a reason) like any other."""
    out = []
    for tok in argv:
        if out and _NEGATIVE.match(tok) and out[-1].startswith("--") and "=" not in out[-1]:
            out[-1] = f"{out[-1]}={tok}"
        else:
            out.append(tok)
    return out


def _fail(message: str) -> int:
    print(f"tfd: error: {message}", file=sys.stderr)
    return 2


def build_parser() -> argparse.ArgumentParser:
    from abm.commands import (audit, batch, design, evolve, explore, learn, scenario, simulate, strategies, theory,
                              tournament)

    from abm import __version__

    parser = _Parser(prog="tfd", description="Truthful fair division testbed (Halpern, Psomas, Zhang).")
    parser.add_argument("--version", action="version", version=f"tfd {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    simulate.add(sub)
    theory.add(sub)
    audit.add(sub)
    design.add(sub)
    batch.add(sub)
    scenario.add(sub)
    learn.add(sub)
    evolve.add(sub)
    strategies.add(sub)
    tournament.add(sub)
    explore.add(sub)
    return parser


def _name_subcommands(parser: argparse.ArgumentParser) -> None:
    """Required sub-subcommands are named by their choices in errors, not by internal dests."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            if action.dest != "command":
                action.metavar = "{" + ",".join(action.choices) + "}"
            for child in action.choices.values():
                _name_subcommands(child)


def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else list(argv)
    if args_in == ["--version"]:  # answered before any subcommand (and numpy) is imported
        from abm import __version__

        print(f"tfd {__version__}")
        return 0
    parser = build_parser()
    _name_subcommands(parser)
    try:  # a refused option has printed its one line; --help its page
        args = parser.parse_args(_attach_negative_values(args_in))
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 2
    if getattr(args, "run", None) is None:  # bare `tfd`: say what there is to do
        names = ", ".join(parser._subparsers._group_actions[0].choices)
        return _fail(f"choose a command: {names} (tfd --help, or tfd COMMAND --help)")
    from abm import files
    from abm.errors import EXIT_INTERNAL, TfdError, internal_error

    try:
        if getattr(args, "_entry", None) is not None:  # declared flags: read and checked from the declaration
            args._entry.read(args)
        with files.removed_on_failure(getattr(args, "out", None), keep_on_interrupt=args.command == "batch"):
            return args.run(args)
    except TfdError as exc:  # bad input, read and refused where it was read
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return _fail(text)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # the environment's fault: the disk, a permission, a path
        _fail(files.describe(exc))
        return files.EXIT_IO
    except Exception as exc:  # anything else is a bug: one line here, the traceback in a file
        line, _ = internal_error(exc, f"tfd {' '.join(args_in)}")
        print(f"tfd: {line}", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
