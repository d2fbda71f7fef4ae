"""Video frames for the convolutional LSTM: a dot moving on a grid and bouncing off the walls."""

from __future__ import annotations

import numpy as np

from ...core._checks import check_positive_int
from ...core.utils import as_rng


def moving_dot_batch(n: int, length: int, size: int = 8, rng=None):
    """Frames of a single bright pixel moving in a straight line and bouncing off the walls.

    Each sequence picks a start pixel and a velocity in {-1, 0, 1}^2 other than
    (0, 0); a step that would leave the grid reverses that velocity component
    (the dot bounces). The dot never stands still, so "copy the last frame" is
    always wrong.

    Parameters
    ----------
    n, length : int
        Number of sequences and frames per sequence (inputs; targets are the
        following frames).
    size : int
        The grid is size x size.
    rng : np.random.Generator or int, optional

    Returns
    -------
    x : np.ndarray, (n, length, size, size, 1)
        Frames 0 .. length-1.
    y : np.ndarray, (n, length, size, size, 1)
        Frames 1 .. length: the frame to predict after each input.
    """
    n = check_positive_int("n", n)
    length = check_positive_int("length", length)
    size = check_positive_int("size", size)
    if size < 2:
        raise ValueError(f"size must be at least 2; got {size}")
    rng = as_rng(rng)
    pos = rng.integers(0, size, size=(n, 2))
    choices = np.array([(a, b) for a in (-1, 0, 1) for b in (-1, 0, 1) if (a, b) != (0, 0)])
    vel = choices[rng.integers(0, len(choices), size=n)]
    frames = np.zeros((n, length + 1, size, size, 1))
    rows = np.arange(n)
    for t in range(length + 1):
        frames[rows, t, pos[:, 0], pos[:, 1], 0] = 1.0
        nxt = pos + vel
        out = (nxt < 0) | (nxt >= size)
        vel = np.where(out, -vel, vel)
        pos = pos + vel
    return frames[:, :-1], frames[:, 1:]
