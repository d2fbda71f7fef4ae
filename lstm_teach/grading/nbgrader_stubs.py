"""nbgrader support for regions that hand out their own code (``### STUB``), e.g. the bug zoo.

nbgrader replaces every solution region with one fixed stub. lstm-teach's generator lets
a region carry its own student code on ``### STUB <code>`` lines (the bug zoo hands out
broken functions to debug). With nbgrader's default configuration such a region becomes
the plain stub; to hand out the same code as ``exercises/``, put this in the course's
``nbgrader_config.py``::

    from lstm_teach.grading.nbgrader_stubs import generate_assignment_preprocessors
    c.GenerateAssignment.preprocessors = generate_assignment_preprocessors()

Every other exercise needs nothing: its nbgrader student version has the same code as
``exercises/`` under nbgrader's defaults. Importing this module needs nbgrader (the
``grading`` extra).
"""

from __future__ import annotations

from nbgrader.converters import GenerateAssignment
from nbgrader.preprocessors import ClearSolutions

from .generate import STUB_PREFIX, strip_solutions


class ClearSolutionsWithStubs(ClearSolutions):
    """nbgrader's ClearSolutions, except that a region with ``### STUB`` lines gets that code.

    The replacement is lstm-teach's own :func:`~lstm_teach.grading.generate.strip_solutions`,
    so nbgrader and ``lstm-teach exercises build`` hand out the same text.
    """

    def _replace_solution_region(self, cell, language) -> bool:
        if cell.cell_type == "code" and STUB_PREFIX in cell.source:
            new = strip_solutions(cell.source, "code", where="nbgrader solution cell")
            replaced, cell.source = new != cell.source, new
            return replaced
        return super()._replace_solution_region(cell, language)


def generate_assignment_preprocessors() -> list:
    """nbgrader's GenerateAssignment preprocessors, with ClearSolutions swapped for ours."""
    default = GenerateAssignment.class_traits()["preprocessors"].default()
    return [ClearSolutionsWithStubs if p is ClearSolutions else p for p in default]
