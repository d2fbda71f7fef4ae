"""Exercises: diagnostic checks, the exercise generator and the grader.

For learners
------------
Each graded cell of an exercise notebook calls :func:`check`::

    from lstm_teach.grading import check
    check("lstm_step_forward", lstm_step_forward)

The check runs your function on fixed inputs, compares the result with the
reference implementation in ``lstm_teach``, and prints a short verdict: ✅ with
the points earned, ✏️ for a function that still raises ``NotImplementedError``,
or ❌ with a diagnosis (which gate or which gradient block is wrong, a shape,
dtype or NaN problem, or the line of your code that raised). It returns a
:class:`CheckResult` (``passed``, ``points``, ``max_points``, ``status``,
``message``) and never raises because an answer is wrong, so the rest of the
notebook keeps running.

Conventions for exercise authors
--------------------------------
1. **One source.** ``solutions/NN_name.ipynb`` is the only notebook you edit;
   ``exercises/NN_name.ipynb`` is generated from it. Mark what the learner
   writes with nbgrader's markers, on lines of their own::

       def my_function(x):
           ### BEGIN SOLUTION
           return 2 * x
           ### END SOLUTION

   The region becomes ``# YOUR CODE HERE`` plus ``raise NotImplementedError()``
   at the indentation of the ``BEGIN`` line (in markdown: ``YOUR ANSWER HERE``),
   as nbgrader's default configuration does. Code the learner should receive
   as it is, such as the bug zoo's broken specimens, goes in a cell of its own
   outside any region (nbgrader metadata ``locked: true`` makes it read-only).
   ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` regions are removed
   from the exercise. nbgrader allows them only in graded cells, where they
   hold ``assert result.passed``; a demo cell asserts its claims in the open,
   inside ``with needs(...)``.
2. **Register the checks** in a module ``lstm_teach/grading/sets/nbNN_name.py``
   (every module there is imported automatically)::

       from ..checks import register
       from ..feedback import Incorrect, call_learner, compare

       EXERCISE_SET = "NN_name"  # the notebook's file stem

       @register("my_function", EXERCISE_SET, points=2, title="Doubling")
       def check_my_function(fn):
           got = call_learner(fn, 3.0)          # learner exceptions become feedback
           problem = compare("my_function(3.0)", got, 6.0)  # None, or what differs
           if problem:
               raise Incorrect(problem, "hint: ...")        # one line per observation
           return ["optional line of praise"]

   Check names are unique across the course and double as nbgrader
   ``grade_id``; register in notebook order. Diagnose rather than judge: try
   the learner's function on inputs that isolate one term, or compare its
   output with references into which a known mistake was put on purpose
   (see :mod:`lstm_teach.grading.lstm_diagnosis` for the LSTM helpers).
3. **One graded cell per exercise**, containing exactly one check call::

       result = check("my_function", my_function)
       ### BEGIN HIDDEN TESTS
       assert result.passed, result.message  # what nbgrader's autograder scores
       ### END HIDDEN TESTS
4. **Metadata and build.** ``python -m lstm_teach.grading.generate annotate
   solutions/NN_name.ipynb`` writes the nbgrader metadata (answer cells from
   the markers; graded cells from the ``check`` calls, with the registered
   points). ``lstm-teach exercises build`` validates every solution against
   the registry and writes ``exercises/``; commit both.
5. **Points** are set in :func:`register`, all or nothing per exercise. A
   notebook's maximum is the sum over its registered exercises, whatever a
   submission contains. As a guide: 1 point for a short function, 2 for one
   with some logic, 3 for a forward or backward pass (lessons 01-06 have 5
   points each).

Instructors
-----------
``lstm-teach exercises build`` regenerates ``exercises/`` from ``solutions/``;
``lstm-teach exercises check`` exits 1 when the committed exercises are stale
(``make test`` runs the same comparison).

``lstm-teach grade NOTEBOOK_OR_FOLDER... [--set NAME] [--jobs N] [--json report.json]
[--class-csv grades.csv] [--class-json grades.json] [--timeout-cell 60]
[--timeout-notebook 600] [--memory-gib 4] [--max-processes 64] [--cpus 1]`` grades
submissions (:mod:`lstm_teach.grading.classroom`). The exercise set is the
instructor's ``--set``, else the one the file name names; a notebook whose
metadata names another set is a ``"set mismatch"`` and scores nothing. Each
submission runs in its own sandbox (:mod:`lstm_teach.grading.sandbox`:
bubblewrap, read-only environment, no network, no instructor files, resource
limits) from a copy taken before anything ran, and the scores are decided in
the grader's process (:mod:`lstm_teach.grading.grader`): the check functions
registered here run there, on a stand-in that calls the learner's function in
the sandbox through a narrow channel of plain values
(:mod:`lstm_teach.grading.session`, :mod:`lstm_teach.grading.channel`). What
the notebook's own ``check()`` prints counts for nothing. The checks' inputs
there are drawn with a secret the grader picks for each submission and never
sends into the sandbox (:func:`lstm_teach.grading.checks.probe_rng`), so a
table of answers to the fixed inputs of the notebook's ``check()`` scores
nothing. An answer that imports the package's reference for its own exercise
is flagged ``"needs review"`` (:mod:`lstm_teach.grading.review`). Without
bubblewrap the console and the report say the run is NOT confined.

A check draws every input from ``probe_rng(seed)`` (fixed in the learner's
kernel, secret when graded), never from ``np.random.default_rng`` directly, and
adds random cases next to any hand-chosen edge case (``w = 1``, ``z = 1000``).
So that the grader can reuse a check, a check function receives only the
learner's callable and plain arguments of its own making: arrays, numbers,
strings, lists, tuples and dicts of them, a ``np.random.Generator``, an
``LSTMConfig``, or a function of this package (it crosses by name); and it
reads back only such values. Arguments the learner's function changes in place
and generators it draws from are synchronised back after each call.

nbgrader (optional: ``pip install -e '.[grading]'``): the notebooks carry
nbgrader metadata (schema 3), so ``solutions/`` serves as nbgrader's source
folder as it is, with nbgrader's default configuration. Each graded cell is
``result = check(...)`` followed by a hidden test ``assert result.passed``:
nbgrader (and our generator) remove it from the student version and nbgrader's
autograder puts it back, so an untouched notebook scores 0 and a solved one full
marks, with no environment variable. A written (markdown) answer is a manually
graded nbgrader cell worth 0 points. nbgrader's student version of every
notebook, the bug zoo included, has the same code as ``exercises/``.

Demo cells that call the learner's functions are wrapped in :class:`needs`
(``with needs(my_function): ...``): while the function is unfinished or wrong,
the cell prints one line of advice instead of stopping Run All.
"""

from .checks import Exercise, exercise_sets, exercises_for, register, run_check
from .feedback import CheckResult
from .guard import needs


def check(name: str, obj, **kwargs) -> CheckResult:
    """Check the learner's ``obj`` for the exercise ``name``; print the feedback, return the result.

    Parameters
    ----------
    name : str
        The exercise, e.g. ``"lstm_step_forward"`` (see :func:`exercises_for`).
    obj : callable
        The learner's function.
    **kwargs
        Passed to the check (rarely needed).

    Returns
    -------
    CheckResult
        ``passed``, ``points``, ``max_points``, ``status`` and ``message``.
    """
    return run_check(name, obj, **kwargs)


__all__ = ["CheckResult", "Exercise", "check", "exercise_sets", "exercises_for", "needs",
           "register"]
