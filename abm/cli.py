"""The ``tfd`` command: argument parsing and error reporting only.

Subcommands live in :mod:`abm.commands`. Bad input prints one line,
``tfd: error: ...``, on stderr and exits with status 2; never a traceback.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, no usage dump
        raise SystemExit(_fail(f"{self.prog.split(maxsplit=1)[-1]}: {message}"))


def _fail(message: str) -> int:
    print(f"tfd: error: {message}", file=sys.stderr)
    return 2


def build_parser() -> argparse.ArgumentParser:
    from abm.commands import audit, batch, learn, scenario, simulate, theory

    parser = _Parser(prog="tfd", description="Truthful fair division testbed (Halpern, Psomas, Zhang).")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    simulate.add(sub)
    theory.add(sub)
    audit.add(sub)
    batch.add(sub)
    scenario.add(sub)
    learn.add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except ValueError as exc:  # TfdError and the ValueErrors numpy/scipy raise on bad input
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return _fail(text)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
