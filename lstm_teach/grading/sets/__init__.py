"""One module per exercise notebook, each registering that notebook's checks.

Modules are discovered automatically (every module here whose name does not
start with ``_``); name them after the notebook, e.g. ``nb03_gated_cell.py``
for ``solutions/03_gated_cell.ipynb``. See :mod:`lstm_teach.grading` for the
conventions.
"""
