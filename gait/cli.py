"""The ``gait`` command: one subcommand per user task, each in a module of :mod:`gait.commands`.

Errors a user can cause (a wrong file, a bad option, no Bluetooth) print as one line and exit with status 2; a
traceback means a bug, and ``--debug`` shows it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import import_module

from gait.errors import GaitError

#: Modules that add subcommands, in the order ``gait --help`` lists them.
COMMAND_MODULES = (
    "gait.commands.session",
    "gait.commands.acquire",
    "gait.commands.analysis",
    "gait.commands.reporting",
    "gait.commands.batch",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gait",
        description="Running form from two ankle IMUs: pair, record, analyze, compare.",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = import_module(name)
        except ModuleNotFoundError as exc:  # a command family not installed in this build
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("gait: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `gait analyze run.parquet | head`: the reader left; stop quietly
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        except (OSError, ValueError):
            pass
        return 141
    except (GaitError, ValueError, OSError) as exc:  # OSError: a folder given for a file, a full disk, a lost link
        if args.debug:
            raise
        print(f"gait {args.command}: {_one_line(exc)}", file=sys.stderr)
        return 2


def _one_line(exc: BaseException) -> str:
    """The message of a user error on one line; an OSError as 'PATH: reason' rather than '[Errno 21] ...'."""
    if isinstance(exc, OSError) and not isinstance(exc, GaitError):
        if exc.strerror:
            return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
        return " ".join(str(exc).split()) or type(exc).__name__
    return str(exc) or type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
