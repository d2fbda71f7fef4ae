"""Tests for lstm_teach.tasks: shapes, the rules of each task, baselines and the corpus."""

from __future__ import annotations

import math
from importlib import resources

import numpy as np
import pytest

from lstm_teach import tasks

# --------------------------------------------------------------------------
# adding problem, [0, 1] form
# --------------------------------------------------------------------------


def test_adding_shapes_markers_and_targets():
    x, y = tasks.adding_problem(500, 30, rng=0)
    assert x.shape == (500, 30, 2) and y.shape == (500, 1)
    assert x.dtype == np.float64 and y.dtype == np.float64
    values, markers = x[..., 0], x[..., 1]
    assert values.min() >= 0.0 and values.max() <= 1.0
    assert set(np.unique(markers)) == {0.0, 1.0}
    assert np.all(markers.sum(axis=1) == 2)
    assert np.all(markers[:, :15].sum(axis=1) == 1)  # one in each half
    assert np.all(markers[:, 15:].sum(axis=1) == 1)
    np.testing.assert_allclose(y[:, 0], (values * markers).sum(axis=1))


def test_adding_markers_cover_both_halves_uniformly():
    x, _ = tasks.adding_problem(4000, 10, rng=1)
    first = x[:, :5, 1].argmax(axis=1)
    second = 5 + x[:, 5:, 1].argmax(axis=1)
    assert set(first) == set(range(5)) and set(second) == set(range(5, 10))
    np.testing.assert_allclose(np.bincount(first) / 4000, 0.2, atol=0.03)


def test_adding_is_deterministic_per_seed():
    a = tasks.adding_problem(8, 12, rng=3)
    b = tasks.adding_problem(8, 12, rng=np.random.default_rng(3))
    c = tasks.adding_problem(8, 12, rng=4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_adding_shared_generator_advances():
    rng = np.random.default_rng(0)
    first = tasks.adding_problem(4, 6, rng=rng)[0]
    second = tasks.adding_problem(4, 6, rng=rng)[0]
    assert not np.array_equal(first, second)


def test_adding_constant_baseline_is_one_sixth():
    _, y = tasks.adding_problem(20000, 10, rng=5)
    mse_of_one = np.mean((y - 1.0) ** 2)
    assert tasks.ADDING_BASELINE_MSE == pytest.approx(1 / 6)
    assert abs(mse_of_one - tasks.ADDING_BASELINE_MSE) < 0.01
    # 1.0 is the best constant: moving away from it costs
    assert np.mean((y - 0.9) ** 2) > mse_of_one
    assert np.mean((y - 1.1) ** 2) > mse_of_one


@pytest.mark.parametrize(
    ("kwargs", "exc", "text"),
    [
        ({"n": 4, "T": 1}, ValueError, "T must be at least 2"),
        ({"n": 0, "T": 10}, ValueError, "n must be a positive integer"),
        ({"n": 4, "T": 10.0}, TypeError, "T must be a positive integer"),
        ({"n": 4, "T": 10, "rng": "seed"}, TypeError, "rng must be"),
    ],
)
def test_adding_rejects_bad_arguments(kwargs, exc, text):
    with pytest.raises(exc, match=text):
        tasks.adding_problem(**kwargs)


# --------------------------------------------------------------------------
# adding problem, 1997 form
# --------------------------------------------------------------------------


def test_adding_1997_marker_rules():
    T = 40
    x, y = tasks.adding_problem_1997(3000, T, rng=0)
    assert x.shape == (3000, T, 2) and y.shape == (3000, 1)
    values, markers = x[..., 0], x[..., 1]
    assert values.min() >= -1.0 and values.max() <= 1.0
    assert np.all((markers == 1.0).sum(axis=1) == 2)
    marked = np.argwhere(markers == 1.0)[:, 1].reshape(-1, 2)
    # one marked step among the first 10, both within the first T/2 - 1 unmarked steps
    assert np.all(marked[:, 0] < 10)
    assert np.all(marked[:, 1] <= T // 2 - 1)
    assert marked[:, 1].max() == T // 2 - 1  # the range is used up to its end
    # first and last steps are -1 unless marked; everything else 0
    assert np.all(markers[:, -1] == -1.0)
    assert np.all((markers[:, 0] == -1.0) | (markers[:, 0] == 1.0))
    assert np.all(np.isin(markers[:, 1:-1], (0.0, 1.0)))
    # target 0.5 + (X1 + X2) / 4, and a marked first step has its value zeroed
    np.testing.assert_allclose(y[:, 0], 0.5 + (values * (markers == 1.0)).sum(axis=1) / 4)
    step0 = markers[:, 0] == 1.0
    assert step0.sum() > 100 and np.all(values[step0, 0] == 0.0)
    assert y.min() >= 0.0 and y.max() <= 1.0


def test_adding_1997_second_marker_avoids_the_first():
    x, _ = tasks.adding_problem_1997(2000, 20, rng=1)
    marked = np.argwhere(x[..., 1] == 1.0)[:, 1].reshape(-1, 2)
    assert np.all(marked[:, 0] != marked[:, 1])
    assert set(np.unique(marked)) <= set(range(10))  # T=20: both in the first half


@pytest.mark.parametrize("T", [20, 100])
def test_adding_1997_constant_baseline(T):
    _, y = tasks.adding_problem_1997(20000, T, rng=2)
    expected = tasks.adding_1997_baseline_mse(T)
    assert abs(np.mean((y - 0.5) ** 2) - expected) < 0.0015
    # about 15% of sequences are "solved" by the constant answer
    within = np.mean(np.abs(y - 0.5) < tasks.ADDING_1997_THRESHOLD)
    assert 0.13 < within < 0.18


def test_adding_1997_baseline_formula():
    assert tasks.adding_1997_baseline_mse(100) == pytest.approx((2 - (0.1 + 0.9 / 49)) / 48)
    assert tasks.adding_1997_baseline_mse(20) == pytest.approx(1.8 / 48)


def test_adding_1997_variable_length_is_left_padded():
    T = 50
    x, y, lengths = tasks.adding_problem_1997(400, T, rng=3, variable_length=True)
    assert x.shape == (400, T + T // 10, 2) and lengths.dtype == np.int64
    assert lengths.min() == T and lengths.max() == T + T // 10
    offset = x.shape[1] - lengths
    for b in range(400):
        pad = x[b, : offset[b]]
        seq = x[b, offset[b] :]
        assert np.all(pad == 0.0)
        assert seq[0, 1] in (-1.0, 1.0) and seq[-1, 1] == -1.0
        marked = np.flatnonzero(seq[:, 1] == 1.0)
        assert len(marked) == 2 and marked[0] < T // 2 and marked[1] < T // 2
        assert y[b, 0] == pytest.approx(0.5 + seq[marked, 0].sum() / 4)


def test_adding_1997_rejects_short_sequences():
    with pytest.raises(ValueError, match="T must be at least 20"):
        tasks.adding_problem_1997(4, 19)


# --------------------------------------------------------------------------
# temporal order
# --------------------------------------------------------------------------


def _symbols(x):
    return np.array(tasks.TEMPORAL_ORDER_SYMBOLS)[x.argmax(axis=-1)]


def test_temporal_order_structure_and_labels():
    T = 20
    x, y = tasks.temporal_order(2000, T, rng=0)
    assert x.shape == (2000, T, 8) and y.shape == (2000,) and y.dtype == np.int64
    np.testing.assert_array_equal(x.sum(axis=-1), 1.0)
    sym = _symbols(x)
    assert np.all(sym[:, 0] == "E") and np.all(sym[:, -1] == "B")
    relevant = np.isin(sym, ["X", "Y"])
    assert np.all(relevant.sum(axis=1) == 2)
    pos = np.argwhere(relevant)[:, 1].reshape(-1, 2)
    assert pos[:, 0].min() == 2 and pos[:, 0].max() == 4  # 0.1 T .. 0.2 T
    assert pos[:, 1].min() == 10 and pos[:, 1].max() == 12  # 0.5 T .. 0.6 T
    assert np.all(np.isin(sym[:, 1:-1][~relevant[:, 1:-1]], ["a", "b", "c", "d"]))
    rows = np.arange(2000)
    names = np.char.add(sym[rows, pos[:, 0]], sym[rows, pos[:, 1]])
    np.testing.assert_array_equal(names, np.array(tasks.TEMPORAL_ORDER_CLASSES)[y])
    # balanced classes: a constant guess is right a quarter of the time
    np.testing.assert_allclose(np.bincount(y, minlength=4) / 2000, 0.25, atol=0.04)


def test_temporal_order_paper_positions_at_T100():
    x, _ = tasks.temporal_order(3000, 100, rng=1)
    pos = np.argwhere(np.isin(_symbols(x), ["X", "Y"]))[:, 1].reshape(-1, 2)
    assert (pos[:, 0].min(), pos[:, 0].max()) == (10, 20)
    assert (pos[:, 1].min(), pos[:, 1].max()) == (50, 60)


def test_temporal_order_variable_length():
    x, y, lengths = tasks.temporal_order(300, 50, rng=2, variable_length=True)
    assert x.shape == (300, 55, 8) and set(np.unique(lengths)) <= set(range(50, 56))
    for b in range(300):
        start = 55 - lengths[b]
        assert np.all(x[b, :start] == 0.0)
        assert tasks.TEMPORAL_ORDER_SYMBOLS[x[b, start].argmax()] == "E"


def test_temporal_order_deterministic_and_validated():
    a, b = tasks.temporal_order(5, 20, rng=7), tasks.temporal_order(5, 20, rng=7)
    np.testing.assert_array_equal(a[0], b[0])
    with pytest.raises(ValueError, match="T=8 is too short"):
        tasks.temporal_order(5, 8)
    with pytest.raises(TypeError, match="first_range must be a pair"):
        tasks.temporal_order(5, 20, first_range=0.1)


# --------------------------------------------------------------------------
# Reber grammar
# --------------------------------------------------------------------------

GOOD_REBER = ["BTSSXXTVVE", "BPVVE", "BTXXVPSE", "BPVPXVPXVPXVVE", "BTSXXVPSE"]
BAD_REBER = ["BTSSPXSE", "BPTVVB", "BTXXVVSE", "BPVSPSE", "BTSSSE", "BPVV", ""]


def test_reber_checker_on_known_strings():
    assert all(tasks.is_reber(s) for s in GOOD_REBER)
    assert not any(tasks.is_reber(s) for s in BAD_REBER)
    assert tasks.is_embedded_reber("BT" + "BPVVE" + "TE")
    assert not tasks.is_embedded_reber("BT" + "BPVVE" + "PE")  # outer symbols must match
    assert not tasks.is_embedded_reber("BPVVE")


def test_generated_strings_are_grammatical():
    rng = np.random.default_rng(0)
    plain = [tasks.reber_string(rng) for _ in range(300)]
    embedded = [tasks.embedded_reber_string(rng) for _ in range(300)]
    assert all(tasks.is_reber(s) for s in plain)
    assert all(tasks.is_embedded_reber(s) for s in embedded)
    assert min(map(len, plain)) == 5
    branches = [s[1] for s in embedded]
    assert all(s[1] == s[-2] for s in embedded)
    assert 0.4 < branches.count("T") / 300 < 0.6


def test_reber_legal_next():
    legal = tasks.reber_legal_next("BTBPVVETE")
    assert legal == ["TP", "B", "TP", "TV", "PV", "E", "T", "E", ""]
    assert tasks.reber_legal_next("BPVVE", embedded=False) == ["TP", "TV", "PV", "E", ""]
    with pytest.raises(ValueError, match="position 7 .* expected T"):
        tasks.reber_legal_next("BTBPVVEPE")


def test_embedded_reber_batch():
    batch = tasks.embedded_reber_batch(64, rng=1)
    n, t_max, d = batch.x.shape
    assert (n, d) == (64, 7) and batch.y.shape == batch.x.shape
    assert t_max == batch.lengths.max() and batch.mask.sum() == batch.lengths.sum()
    for b, s in enumerate(batch.strings):
        steps = len(s) - 1
        assert batch.lengths[b] == steps
        decoded = "".join(tasks.REBER_SYMBOLS[i] for i in batch.x[b, :steps].argmax(-1))
        assert decoded == s[:-1]
        assert np.all(batch.x[b, steps:] == 0) and np.all(batch.y[b, steps:] == 0)
        # the actual next symbol is always legal
        assert np.all(batch.y[b, np.arange(steps), batch.next_symbol[b, :steps]] == 1.0)
        # the long-range step: after the inner E only the outer symbol is legal
        outer = batch.y[b, steps - 2]
        assert outer.sum() == 1 and tasks.REBER_SYMBOLS[outer.argmax()] == s[1]


def test_continual_stream_structure():
    stream = tasks.continual_reber_stream(4, 300, rng=2)
    assert stream.x.shape == (4, 300, 7) and stream.y.shape == (4, 300, 7)
    for b in range(4):
        text = stream.text[b]
        assert len(text) == 301
        decoded = "".join(tasks.REBER_SYMBOLS[i] for i in stream.x[b].argmax(-1))
        assert decoded == text[:300]
        starts = np.flatnonzero(stream.string_start[b])
        assert starts[0] == 0 and len(starts) > 10
        # every complete segment between boundaries is one embedded Reber string
        pieces = [text[i:j] for i, j in zip(starts[:-1], starts[1:], strict=True)]
        assert all(tasks.is_embedded_reber(p) for p in pieces)
        # boundaries come right after an E, and after a string's last E the next symbol is B
        assert all(text[i - 1] == "E" for i in starts[1:])
        after_end = starts[1:] - 1
        assert np.all(stream.y[b, after_end].argmax(-1) == tasks.REBER_SYMBOLS.index("B"))
        assert np.all(stream.y[b, after_end].sum(-1) == 1)
        # outer steps: input is the inner E, target the string's branch symbol
        for t in np.flatnonzero(stream.outer_step[b]):
            opening = starts[starts <= t].max()
            assert text[t] == "E" and text[t + 1] == text[opening + 1]
            assert stream.y[b, t].sum() == 1
        assert np.all(stream.y[b, np.arange(300), stream.next_symbol[b]] == 1.0)


def test_reber_predictions_correct():
    stream = tasks.continual_reber_stream(2, 80, rng=3)
    y = stream.y
    assert tasks.reber_predictions_correct(y, y).all()
    soft = np.where(y > 0, 0.6, 0.4)
    assert tasks.reber_predictions_correct(soft, y).all()
    assert tasks.reber_predictions_correct(y / y.sum(-1, keepdims=True), y, criterion="top").all()
    broken = soft.copy()
    broken[0, 5, y[0, 5].argmin()] = 0.7  # an illegal symbol switched on
    ok = tasks.reber_predictions_correct(broken, y)
    assert not ok[0, 5] and ok.sum() == ok.size - 1
    with pytest.raises(ValueError, match="criterion must be one of"):
        tasks.reber_predictions_correct(y, y, criterion="max")


def test_strings_before_first_error():
    starts = np.array([1, 0, 0, 1, 0, 0, 1, 0, 1, 0], dtype=bool)
    all_ok = np.ones(10, dtype=bool)
    assert tasks.strings_before_first_error(all_ok, starts) == 3  # the last one is cut off
    err = all_ok.copy()
    err[4] = False  # inside the second string
    assert tasks.strings_before_first_error(err, starts) == 1
    both = tasks.strings_before_first_error(np.stack([all_ok, err]), np.stack([starts, starts]))
    np.testing.assert_array_equal(both, [3, 1])


# --------------------------------------------------------------------------
# latch and copy
# --------------------------------------------------------------------------


def test_latch_problem():
    x, y = tasks.latch_problem(2000, 50, rng=0, L=3)
    assert x.shape == (2000, 50, 1) and y.shape == (2000, 1)
    assert set(np.unique(y)) == {-0.8, 0.8} and (y > 0).sum() == 1000  # exactly balanced
    np.testing.assert_array_equal(x[:, :3, 0], np.sign(y) * np.ones((1, 3)))
    noise = x[:, 3:, 0]
    assert abs(noise.std() - math.sqrt(0.2)) < 0.01 and abs(noise.mean()) < 0.01
    # noise carries no class information
    assert abs(np.corrcoef(noise.mean(axis=1), y[:, 0])[0, 1]) < 0.1
    assert np.mean((y - 0.0) ** 2) == pytest.approx(0.64)  # constant-0 baseline


def test_latch_validates():
    with pytest.raises(ValueError, match="T must be at least 4"):
        tasks.latch_problem(10, 3, L=3)
    with pytest.raises(ValueError, match="noise_std must be >= 0"):
        tasks.latch_problem(10, 5, noise_std=-1.0)
    x, _ = tasks.latch_problem(4, 2, rng=1, noise_std=0.0)
    assert np.all(x[:, 1] == 0.0)


def test_copy_task_layout():
    T, length = 30, 10
    x, y = tasks.copy_task(50, T, rng=0)
    assert x.shape == (50, T + 20, 10) and y.shape == (50, T + 20) and y.dtype == np.int64
    ids = x.argmax(axis=-1)
    data = ids[:, :length]
    assert data.max() < 8
    assert np.all(ids[:, length : T + length - 1] == 8)  # blanks
    assert np.all(ids[:, T + length - 1] == 9)  # delimiter
    assert np.all(ids[:, T + length :] == 8)
    assert np.all(y[:, : T + length] == 8)
    np.testing.assert_array_equal(y[:, T + length :], data)


def test_copy_baseline_matches_the_memoryless_predictor():
    T = 100
    _, y = tasks.copy_task(20, T, rng=1)
    # blanks with certainty until the delimiter, then uniform over the 8 data symbols
    probs = np.zeros(y.shape + (10,))
    probs[:, : T + 10, 8] = 1.0
    probs[:, T + 10 :, :8] = 1 / 8
    ce = -np.log(np.take_along_axis(probs, y[..., None], axis=-1)).mean()
    assert ce == pytest.approx(tasks.copy_baseline_cross_entropy(T))
    assert tasks.copy_baseline_cross_entropy(T) == pytest.approx(10 * math.log(8) / 120)


# --------------------------------------------------------------------------
# time series
# --------------------------------------------------------------------------


def test_sine_helpers():
    s = tasks.sine_wave(40, period=20.0, amplitude=2.0)
    np.testing.assert_allclose(s[[0, 5, 10, 15]], [0.0, 2.0, 0.0, -2.0], atol=1e-12)
    x, y = tasks.sine_batch(16, 30, rng=0)
    assert x.shape == y.shape == (16, 30, 1)
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])  # y is x shifted by one step
    xn, yn = tasks.sine_batch(16, 30, rng=0, noise_std=0.1)
    np.testing.assert_array_equal(yn, y)  # noise goes to the inputs only
    assert 0.05 < np.std(xn - x) < 0.15


def test_superimposed_sines():
    t = np.arange(100)
    np.testing.assert_allclose(
        tasks.superimposed_sines(100, n_waves=2), np.sin(0.2 * t) + np.sin(0.311 * t)
    )
    five = tasks.superimposed_sines(500, n_waves=5, start=10)
    assert np.abs(five).max() <= 5
    assert five[0] == pytest.approx(sum(math.sin(f * 10) for f in tasks.EVOLINO_FREQUENCIES))
    with pytest.raises(ValueError, match="n_waves must be at most 5"):
        tasks.superimposed_sines(10, n_waves=6)


def test_mackey_glass_known_properties():
    mg = tasks.mackey_glass(2000)
    assert mg.shape == (2000,)
    np.testing.assert_array_equal(mg, tasks.mackey_glass(2000))  # deterministic
    assert 0.3 < mg.min() and mg.max() < 1.5
    assert abs(mg.mean() - 0.93) < 0.05
    z = mg - mg.mean()
    power = np.abs(np.fft.rfft(z)) ** 2
    freq = np.fft.rfftfreq(z.size)
    period = 1 / freq[1:][power[1:].argmax()]
    assert 40 <= period <= 60  # quasi-periodic with a period of about 50
    # the integration has converged: halving dt changes the first 100 samples very little
    fine = tasks.mackey_glass(100, dt=0.05)
    assert np.abs(fine - mg[:100]).max() < 5e-3


def test_mackey_glass_validates_grid():
    with pytest.raises(ValueError, match="tau=17.05 must be a positive whole multiple"):
        tasks.mackey_glass(10, tau=17.05)


def test_sliding_windows():
    series = np.arange(20.0)
    x, y = tasks.sliding_windows(series, T=5)
    assert x.shape == (15, 5, 1) and y.shape == (15, 5, 1)
    np.testing.assert_array_equal(y[..., 0], x[..., 0] + 1)
    x, y = tasks.sliding_windows(series, T=5, horizon=2, stride=3, target="last")
    assert x.shape == (5, 5, 1) and y.shape == (5, 1)
    np.testing.assert_array_equal(y[:, 0], x[:, -1, 0] + 2)
    with pytest.raises(ValueError, match="series is too short"):
        tasks.sliding_windows(np.arange(4.0), T=5)
    with pytest.raises(ValueError, match="target must be one of"):
        tasks.sliding_windows(series, T=5, target="all")


# --------------------------------------------------------------------------
# character corpus
# --------------------------------------------------------------------------


def test_corpus_ships_and_loads_offline():
    assert tasks.list_corpora() == ["pride_and_prejudice"]
    path = resources.files("lstm_teach").joinpath("data", "pride_and_prejudice.txt")
    size = len(path.read_bytes())
    assert 60_000 <= size < 200_000
    text = tasks.load_corpus()
    assert text == tasks.load_corpus("pride_and_prejudice")
    assert text.startswith("PRIDE AND PREJUDICE")
    assert text.isascii() and "Gutenberg" not in text
    assert text.count('"') > 800 and text.count("\n") > 2000
    assert max(len(line) for line in text.splitlines()) <= 80
    with pytest.raises(ValueError, match="name must be one of"):
        tasks.load_corpus("moby_dick")


def test_char_vocab_roundtrip():
    text = tasks.load_corpus()
    vocab = tasks.CharVocab(text)
    assert vocab.chars == sorted(set(text)) and len(vocab) == vocab.size
    ids = vocab.encode(text)
    assert ids.dtype == np.int64 and ids.shape == (len(text),)
    assert vocab.decode(ids) == text
    assert vocab.one_hot(ids[:7]).shape == (7, vocab.size)
    with pytest.raises(ValueError, match=r"not in the vocabulary: \['#'"):
        vocab.encode("a#b")
    with pytest.raises(ValueError, match="ids must lie in"):
        vocab.decode(np.array([vocab.size]))


def test_char_batches_are_contiguous_across_chunks():
    ids = np.arange(1003)  # distinct ids make the positions visible
    B, T = 4, 7
    chunks = list(tasks.char_batches(ids, B, T))
    stream_len = (1003 - 1) // B  # 250
    assert len(chunks) == stream_len // T
    for x, y in chunks:
        assert x.shape == y.shape == (B, T) and x.dtype == np.int64
        np.testing.assert_array_equal(y, x + 1)  # target = next character
    for k in range(len(chunks) - 1):
        # chunk k+1 continues chunk k in every stream
        np.testing.assert_array_equal(chunks[k + 1][0][:, 0], chunks[k][0][:, -1] + 1)
    rows = np.concatenate([x for x, _ in chunks], axis=1)
    for b in range(B):
        np.testing.assert_array_equal(rows[b], ids[b * stream_len : b * stream_len + rows.shape[1]])
    tail = list(tasks.char_batches(ids, B, T, drop_last=False))
    assert len(tail) == len(chunks) + 1 and tail[-1][0].shape == (B, stream_len % T)


def test_char_batches_validate():
    with pytest.raises(ValueError, match="too few for batch_size=8"):
        next(tasks.char_batches(np.arange(50), 8, 10))
    with pytest.raises(TypeError, match="ids must be a 1-D integer array"):
        next(tasks.char_batches(np.zeros(50), 2, 5))


def test_train_val_split():
    text = tasks.load_corpus()
    train, val = tasks.train_val_split(text, 0.1)
    assert train + val == text and abs(len(val) / len(text) - 0.1) < 1e-3
    a, b = tasks.train_val_split(np.arange(10), 0.3)
    np.testing.assert_array_equal(b, [7, 8, 9])
    with pytest.raises(ValueError, match="val_fraction must be < 1.0"):
        tasks.train_val_split(text, 1.0)


def test_unigram_entropy():
    assert tasks.unigram_entropy("abcd" * 50) == pytest.approx(math.log(4))
    assert tasks.unigram_entropy("aaaa") == pytest.approx(0.0)
    text = tasks.load_corpus()
    h = tasks.unigram_entropy(text)
    assert 2.8 < h < 3.4  # English letters: about 4.1-4.9 bits per character
    assert h == pytest.approx(tasks.unigram_entropy(tasks.CharVocab(text).encode(text)))


def test_one_hot_validates():
    np.testing.assert_array_equal(tasks.one_hot([0, 2], 3), [[1, 0, 0], [0, 0, 1]])
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 3\)"):
        tasks.one_hot([3], 3)
    with pytest.raises(TypeError, match="ids must be an integer array"):
        tasks.one_hot([0.5], 3)
