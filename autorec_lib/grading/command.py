"""The command line of :mod:`autorec_lib.grading`: ``python -m autorec_lib grade SUBMISSION… --out DIR``.

Light to import (``cli.parser`` imports it): the grader and nbclient are imported when it runs.
"""
from __future__ import annotations

import argparse

from . import MEMORY_GIB, TIMEOUT



def add_parser(sub) -> argparse.ArgumentParser:
    g = sub.add_parser("grade", help="grade learners' notebooks into a gradebook",
                       description="Execute each learner's notebook in a fresh, isolated kernel, run the "
                                   "chapter's checks on the values it computed, and write DIR/gradebook.csv "
                                   "and DIR/feedback/<learner>.md.")
    g.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                   help="a learner's filled-in copy of a chapter (.ipynb), or a folder of them")
    g.add_argument("--out", required=True, metavar="DIR", help="folder for gradebook.csv and feedback/")
    g.add_argument("--timeout", type=float, default=TIMEOUT, metavar="SECONDS",
                   help=f"time limit per notebook (default {TIMEOUT:g}); exercises not reached by then are 'timeout'")
    g.add_argument("--jobs", type=int, default=1, metavar="N", help="notebooks graded at once (default 1)")
    g.add_argument("--memory", type=float, default=MEMORY_GIB, metavar="GIB",
                   help=f"address-space limit per kernel in GiB (default {MEMORY_GIB:g})")
    g.add_argument("--solutions", metavar="FOLDER",
                   help="the course's solution notebooks (default: notebooks/ of this checkout)")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    g.set_defaults(run=run)
    return g


def run(args) -> int:
    if not args.timeout > 0 or args.jobs < 1 or not args.memory > 0:
        raise ValueError("--timeout and --memory must be positive and --jobs at least 1 "
                         f"(got --timeout {args.timeout:g} --jobs {args.jobs} --memory {args.memory:g})")
    try:
        import ipykernel  # noqa: F401
        import nbclient  # noqa: F401
        import nbformat  # noqa: F401
    except ImportError as err:
        raise ImportError(f"grading needs nbclient, nbformat and ipykernel ({err}): "
                          "pip install 'autorec-lib[test]'") from None
    from .book import grade_class
    from .sandbox import Limits

    limits = Limits(memory=int(args.memory * (1 << 30)))
    grade_class(args.submissions, args.out, args.timeout, args.jobs, args.solutions, limits,
                progress=not args.no_progress)
    print(f"wrote {args.out}/gradebook.csv and {args.out}/feedback/")
    return 0
