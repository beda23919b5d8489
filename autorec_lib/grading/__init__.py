"""Grading a class: learners' notebooks in, a gradebook and feedback out.

``python -m autorec_lib grade SUBMISSION... --out DIR`` (:mod:`.command`) runs :func:`.book.grade_class`:

* :mod:`.manifest` reads what to grade from the solution notebooks (each check call, its arguments,
  its cell), and recognises which chapter a learner's notebook is;
* :mod:`.run` executes one notebook cell by cell in a fresh kernel, collecting each check's
  arguments where the check cell stood, and runs the checks here, in the grader's process;
* :mod:`.plain` carries values out of the kernel as plain data (never pickles);
* :mod:`.sandbox` isolates each kernel as far as the system allows, and says how far that is;
* :mod:`.book` grades the class and writes ``gradebook.csv`` and ``feedback/``.

Importing this package imports none of the modules above (the command line stays quick).
"""
TIMEOUT = 1200.0  # seconds per notebook (--timeout): chapter 1 takes seconds, the chapters that train minutes
MEMORY_GIB = 8.0  # address space per kernel (--memory)
