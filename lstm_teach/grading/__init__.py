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
   at the indentation of the ``BEGIN`` line (in markdown: ``YOUR ANSWER HERE``).
   To hand out other code instead of the empty stub (the bug zoo hands out
   broken code), add ``### STUB <code>`` lines inside the region: they are
   comments in the solution and become ``<code>`` in the exercise, placed at
   the marker's indentation (extra spaces after ``### STUB `` indent further).
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

``lstm-teach grade NOTEBOOK_OR_FOLDER... [--json report.json]
[--timeout-cell 60] [--timeout-notebook 600]`` grades submissions. Each runs
in a fresh kernel, on a copy in a temporary directory, with a limit per cell
and per notebook; errors, infinite loops, huge outputs and deleted cells cost
only their own exercises' points. A submission is recognised by the metadata
the generator writes, or else by a set name in its file name
(``alice_03_gated_cell.ipynb``). It prints points per exercise; the JSON
report is one object per notebook (a list of them for several) with
``score``, ``max_score``, ``status``, ``reason``, ``exercises`` and
``cell_errors``. The exit status is 0 whenever grading ran, and 2 for a usage
error (a missing path, a bad timeout).

Honest limits: the grader **runs the submitted code with your permissions**.
Run it in a throwaway container or virtual machine, never where there are
secrets. A determined learner can also forge a result (the notebook can write
to the results file, or replace ``check``); treat the score as feedback for
honest work and read submissions when the stakes are high.

nbgrader (optional: ``pip install -e '.[grading]'``): the notebooks carry
nbgrader metadata (schema 3), so ``solutions/`` serves as nbgrader's source
folder as it is, with nbgrader's default configuration. Each graded cell is
``result = check(...)`` followed by a hidden test ``assert result.passed``:
nbgrader (and our generator) remove it from the student version and nbgrader's
autograder puts it back, so an untouched notebook scores 0 and a solved one full
marks, with no environment variable. A written (markdown) answer is a manually
graded nbgrader cell worth 0 points. ``### STUB`` regions (the bug zoo) need
:mod:`lstm_teach.grading.nbgrader_stubs` in ``nbgrader_config.py`` to hand out
the same code as ``exercises/``.

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
