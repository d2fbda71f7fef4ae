"""The diagrams: each returns a figure, and focus, gate values and options change the drawing."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from lstm_teach.course import diagrams  # noqa: E402


def pixels(fig):
    image = diagrams.render(fig)
    plt.close(fig)
    return image


def changed_fraction(a, b):
    assert a.shape == b.shape
    return np.mean(np.any(a != b, axis=-1))


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_lstm_cell_returns_a_figure_that_draws_all_parts():
    fig = diagrams.lstm_cell()
    assert isinstance(fig, Figure)
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    for label in ("c_{t-1}", "c_t", "h_{t-1}", "x_t", "h_t", "forget", "input", "candidate",
                  "output"):
        assert label in texts, label


@pytest.mark.parametrize("focus", diagrams.PARTS)
def test_each_focus_changes_the_drawing(focus):
    plain = pixels(diagrams.lstm_cell())
    focused = pixels(diagrams.lstm_cell(focus=focus))
    assert changed_fraction(plain, focused) > 0.01


def test_different_foci_draw_different_pictures():
    images = {focus: pixels(diagrams.lstm_cell(focus=focus)) for focus in diagrams.PARTS}
    for a in diagrams.PARTS:
        for b in diagrams.PARTS:
            if a < b:
                assert changed_fraction(images[a], images[b]) > 0.005, (a, b)


def test_focus_fades_the_other_parts_and_keeps_its_own():
    fig = diagrams.lstm_cell(focus="f")
    captions = [t for t in fig.axes[0].texts if "forget gate" in t.get_text()]
    assert captions, "the caption explains the focused part"
    faded = [t for t in fig.axes[0].texts if t.get_text() == "output  o"]
    kept = [t for t in fig.axes[0].texts if t.get_text() == "forget  f"]
    assert faded[0].get_alpha() < 0.5 and (kept[0].get_alpha() or 1.0) == 1.0


@pytest.mark.parametrize("gate", ["i", "f", "o", "g"])
def test_gate_values_change_the_drawing_in_proportion(gate):
    low = -0.9 if gate == "g" else 0.05
    wide = pixels(diagrams.lstm_cell(gates={gate: 1.0}))
    almost = pixels(diagrams.lstm_cell(gates={gate: 0.95}))
    narrow = pixels(diagrams.lstm_cell(gates={gate: low}))
    # a big change of the gate changes more pixels than a small one
    assert changed_fraction(wide, narrow) > changed_fraction(wide, almost) > 0


def test_forget_valve_sets_the_width_of_the_carousel():
    def carousel_width(f):
        fig = diagrams.lstm_cell(gates={"f": f})
        widths = [line.get_linewidth() for line in fig.axes[0].lines
                  if np.allclose(line.get_ydata(), 5.3) and line.get_xdata()[0] > 3]
        return widths[0]

    assert carousel_width(1.0) > carousel_width(0.5) > carousel_width(0.0) > 0


@pytest.mark.parametrize("bad, error", [
    ({"f": 1.5}, ValueError), ({"i": -0.1}, ValueError), ({"g": -1.5}, ValueError),
    ({"q": 0.5}, ValueError), ({"f": "open"}, TypeError), ([0.5], TypeError),
    ({"f": float("nan")}, ValueError),
])
def test_bad_gate_values_are_named(bad, error):
    with pytest.raises(error, match="gates"):
        diagrams.lstm_cell(gates=bad)


def test_bad_focus_is_named():
    with pytest.raises(ValueError, match="focus"):
        diagrams.lstm_cell(focus="q")


def test_cell_draws_on_a_given_axes():
    fig, (left, right) = plt.subplots(1, 2)
    assert diagrams.lstm_cell(ax=right, gates={"f": 0.3}) is fig
    assert right.patches and not left.patches


def test_rnn_unrolled_forward_and_backward():
    fig = diagrams.rnn_unrolled(T=4)
    assert isinstance(fig, Figure)
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "h_T" in texts and "U^\\top" in texts
    forward_only = pixels(diagrams.rnn_unrolled(T=4, backward=False))
    assert changed_fraction(pixels(fig), forward_only) > 0.005
    assert changed_fraction(pixels(diagrams.rnn_unrolled(T=3)), pixels(diagrams.rnn_unrolled(T=5))) > 0
    for bad in (1, 9, 2.5, True):
        with pytest.raises(ValueError, match="T must"):
            diagrams.rnn_unrolled(T=bad)


def test_carousel_paths_options_change_the_drawing():
    full = pixels(diagrams.carousel_paths())
    cut = pixels(diagrams.carousel_paths(gate_paths=False))
    peep = pixels(diagrams.carousel_paths(peepholes=True))
    assert changed_fraction(full, cut) > 0.01
    assert changed_fraction(full, peep) > 0.005
    fig = diagrams.carousel_paths(peepholes=True)
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "o_{t-1}" in texts and "carousel" in texts
