"""The ``lstm-teach`` command line.

Each subcommand is declared here (cheap: argparse only) and dispatched to a
``main(args)``-style handler in the module that owns it. Handlers are imported
lazily, so ``lstm-teach --help`` does not import matplotlib or jupyter.
"""

from __future__ import annotations

import argparse
import sys
from importlib import import_module


def _handler(dotted: str):
    """Return a callable that imports ``module:function`` only when it runs."""
    module_name, func_name = dotted.split(":")

    def run(args: argparse.Namespace) -> int:
        return getattr(import_module(module_name), func_name)(args)

    return run


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="lstm-teach",
        description="lstm-teach: the LSTM teaching kit. Run reproductions, build and grade "
        "exercises, and benchmark the reference implementation.",
    )
    parser.add_argument("--version", action="version", version=f"lstm-teach {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    # --- bench ---------------------------------------------------------------
    p = sub.add_parser("bench", help="time the LSTM forward+backward against peers and limits")
    p.add_argument("--quick", action="store_true", help="fewer repeats (for CI smoke tests)")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.set_defaults(func=_handler("lstm_teach.bench:main"))

    # --- repro ---------------------------------------------------------------
    p = sub.add_parser("repro", help="miniature reproductions of published experiments")
    rsub = p.add_subparsers(dest="repro_command", metavar="ACTION", required=True)
    q = rsub.add_parser("list", help="list the available reproductions")
    q.add_argument("--json", metavar="FILE", help="also write the list as JSON")
    q.set_defaults(func=_handler("lstm_teach.repro:cli_list"))
    q = rsub.add_parser("run", help="run one reproduction and check its pass criterion")
    q.add_argument("name", help="reproduction name (see `lstm-teach repro list`)")
    q.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    q.add_argument("--quick", action="store_true", help="small setting (under 15 s)")
    q.add_argument("--json", metavar="FILE", help="write the result as JSON")
    q.add_argument("--plot", metavar="FILE.png", help="save a figure of the result")
    q.set_defaults(func=_handler("lstm_teach.repro:cli_run"))

    # --- grade ---------------------------------------------------------------
    p = sub.add_parser("grade", help="grade submitted exercise notebooks")
    p.add_argument("notebooks", nargs="+", metavar="NOTEBOOK")
    p.add_argument("--json", metavar="FILE", help="write the report as JSON")
    p.add_argument("--timeout-cell", type=float, default=60.0, metavar="S")
    p.add_argument("--timeout-notebook", type=float, default=600.0, metavar="S")
    p.add_argument("--set", metavar="NAME",
                   help="grade every notebook as this exercise set (default: from the file name)")
    p.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="grade N submissions in parallel (default 1)")
    p.add_argument("--class-csv", metavar="FILE",
                   help="write one row per student per exercise as CSV (for a gradebook)")
    p.add_argument("--class-json", metavar="FILE", help="the same rows as JSON")
    p.add_argument("--memory-gib", type=float, default=4.0, metavar="GIB",
                   help="memory (address space) limit per process of a submission (default 4)")
    p.add_argument("--max-processes", type=int, default=64, metavar="N",
                   help="process limit per submission (default 64)")
    p.add_argument("--cpus", type=float, default=1.0, metavar="N",
                   help="cores one submission may keep busy at once, when a cpu cgroup can "
                        "be made (default 1)")
    p.set_defaults(func=_handler("lstm_teach.grading.classroom:cli_grade"))

    # --- exercises -----------------------------------------------------------
    p = sub.add_parser("exercises", help="generate student notebooks from solutions/")
    esub = p.add_subparsers(dest="exercises_command", metavar="ACTION", required=True)
    for action, helptext in [
        ("build", "write exercises/ from solutions/"),
        ("check", "exit non-zero if exercises/ is out of date"),
    ]:
        q = esub.add_parser(action, help=helptext)
        q.add_argument("--solutions", default="solutions", metavar="DIR")
        q.add_argument("--exercises", default="exercises", metavar="DIR")
        if action == "build":
            q.add_argument("--force", action="store_true",
                           help="overwrite exercises even if they were edited since the last "
                                "build (the build refuses otherwise)")
        q.set_defaults(func=_handler(f"lstm_teach.grading.generate:cli_{action}"))

    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0
    from .kernels._runtime import keep_freed_memory

    keep_freed_memory()  # the command line runs kernels for long: reuse freed memory
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
