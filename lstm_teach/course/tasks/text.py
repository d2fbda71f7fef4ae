"""The character corpus: :func:`load_corpus`, :class:`CharVocab`, :func:`char_batches`
for truncated BPTT, :func:`unigram_entropy`.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources

import numpy as np

from ...core._checks import check_choice, check_positive_int, describe
from ._common import _real, one_hot

# --------------------------------------------------------------------------
# the character corpus
# --------------------------------------------------------------------------

_CORPORA = {
    "pride_and_prejudice": "pride_and_prejudice.txt",
}
DEFAULT_CORPUS = "pride_and_prejudice"


def list_corpora() -> list[str]:
    """Names accepted by :func:`load_corpus`."""
    return sorted(_CORPORA)


def load_corpus(name: str | None = None) -> str:
    """Load a text shipped with the package (no network needed).

    ``"pride_and_prejudice"`` (the default): the title page and chapters 1-15 of
    Jane Austen's *Pride and Prejudice* (1813), about 125 KB of plain ASCII
    with the original line breaks (lines of at most 73 characters), lots of
    dialogue in double quotes and ``_underscores_`` marking italics. Those
    features are what make character-level models interesting to look inside:
    units that track whether a quote is open, the position in the line, and
    so on (Karpathy, Johnson & Fei-Fei 2015).

    Provenance: the novel is in the public domain (author died 1817). The text
    is the Project Gutenberg transcription as distributed, without the
    Project Gutenberg header and licence, by the R package ``janeaustenr``
    (Julia Silge; packaged in Debian as ``r-cran-janeaustenr`` 1.0.0). We
    kept chapters 1-15, stripped trailing spaces and collapsed runs of blank
    lines into one; the words are unchanged.

    Returns
    -------
    str
    """
    name = DEFAULT_CORPUS if name is None else name
    check_choice("name", name, list_corpora())
    path = resources.files("lstm_teach").joinpath("data", _CORPORA[name])
    return path.read_text(encoding="utf-8")


class CharVocab:
    """The sorted set of characters of a text, with encoding to ids and back.

    Parameters
    ----------
    text : str
        Every character that may be encoded must occur in it.

    Attributes
    ----------
    chars : list of str
        Sorted characters; ``chars[i]`` has id i.
    size : int
        Number of characters.

    Examples
    --------
    >>> vocab = CharVocab("hello")
    >>> vocab.chars
    ['e', 'h', 'l', 'o']
    >>> vocab.decode(vocab.encode("hole"))
    'hole'
    """

    def __init__(self, text: str):
        if not isinstance(text, str):
            raise TypeError(f"text must be a str; got {describe(text)}")
        if not text:
            raise ValueError("text must not be empty")
        self.chars = sorted(set(text))
        self.size = len(self.chars)
        self.index = {c: i for i, c in enumerate(self.chars)}
        codes = np.array([ord(c) for c in self.chars])
        # lookup table from code point to id (-1 = unknown): encoding is one fancy index
        self._table = np.full(int(codes.max()) + 2, -1, dtype=np.int64)
        self._table[codes] = np.arange(self.size)
        self._chars_array = np.array(self.chars)

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return f"CharVocab(size={self.size})"

    def encode(self, text: str) -> np.ndarray:
        """Ids of the characters of ``text``: shape ``(len(text),)``, int64."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str; got {describe(text)}")
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        codes = np.minimum(codes, self._table.size - 1)  # beyond the table -> unknown
        ids = self._table[codes]
        if (ids < 0).any():
            unknown = sorted({c for c in text if c not in self.index})
            raise ValueError(
                f"text contains {len(unknown)} character(s) not in the vocabulary: {unknown[:10]}"
            )
        return ids

    def decode(self, ids) -> str:
        """The text for a 1-D sequence of ids."""
        ids = np.asarray(ids)
        if ids.dtype.kind not in "iu" or ids.ndim != 1:
            raise TypeError(
                f"ids must be a 1-D integer array; got {ids.ndim}-D array of dtype {ids.dtype}"
            )
        if ids.size and (ids.min() < 0 or ids.max() >= self.size):
            raise ValueError(
                f"ids must lie in [0, {self.size}); got values from {ids.min()} to {ids.max()}"
            )
        return "".join(self._chars_array[ids].tolist())

    def one_hot(self, ids) -> np.ndarray:
        """One-hot encode ids of any shape S: shape ``S + (size,)``, float64."""
        return one_hot(ids, self.size)


def train_val_split(data, val_fraction: float = 0.1):
    """Split a text (str) or id array into a leading training part and a trailing validation part.

    The split is contiguous, not shuffled: for sequence data the validation
    text must be text the model has not read. Returns ``(train, val)`` of the
    same type as ``data``.
    """
    val_fraction = _real("val_fraction", val_fraction, 0.0, 1.0, low_open=True, high_open=True)
    if not isinstance(data, str):
        data = np.asarray(data)
        if data.ndim != 1:
            raise ValueError(f"data must be a str or a 1-D array; got shape {data.shape}")
    n_val = int(round(len(data) * val_fraction))
    if n_val < 1 or n_val >= len(data):
        raise ValueError(
            f"val_fraction={val_fraction} of {len(data)} items leaves an empty part; "
            "use more data or another fraction"
        )
    cut = len(data) - n_val
    return data[:cut], data[cut:]


def char_batches(
    ids, batch_size: int, seq_len: int, drop_last: bool = True
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield consecutive chunks of B parallel streams, for truncated BPTT.

    The ids are cut into ``batch_size`` contiguous streams of equal length
    ``S = (len(ids) - 1) // batch_size`` (row b starts at ``ids[b * S]``). The
    generator walks along the streams ``seq_len`` steps at a time, so chunk
    k + 1 continues chunk k in every row: carry the hidden state from one chunk
    to the next, and backpropagate only inside a chunk. The target is the next
    character: ``y[b, t]`` is the id that follows ``x[b, t]`` in the text.

    Parameters
    ----------
    ids : array_like of int, shape (L,)
        The encoded text (:meth:`CharVocab.encode`).
    batch_size : int
        Number of parallel streams B.
    seq_len : int
        Steps per chunk T.
    drop_last : bool
        Skip a final chunk shorter than ``seq_len`` (default); otherwise yield it.

    Yields
    ------
    x : np.ndarray, shape (B, T), int64
        Input ids.
    y : np.ndarray, shape (B, T), int64
        Next-character ids.

    Notes
    -----
    There are ``S // seq_len`` full chunks; ``S % seq_len`` steps are left over.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise TypeError(f"ids must be a 1-D integer array; got {describe(ids)}")
    batch_size = check_positive_int("batch_size", batch_size)
    seq_len = check_positive_int("seq_len", seq_len)
    stream_len = (ids.size - 1) // batch_size
    if stream_len < (seq_len if drop_last else 1):
        raise ValueError(
            f"ids has {ids.size} items, too few for batch_size={batch_size} streams of at least "
            f"seq_len={seq_len} steps (need at least {batch_size * seq_len + 1})"
        )
    used = batch_size * stream_len
    xs = ids[:used].reshape(batch_size, stream_len).astype(np.int64)
    ys = ids[1 : used + 1].reshape(batch_size, stream_len).astype(np.int64)
    # ids[b*S + S] is the first input of row b + 1, so row b's last target is exact
    for start in range(0, stream_len, seq_len):
        stop = start + seq_len
        if stop > stream_len and drop_last:
            return
        yield xs[:, start:stop].copy(), ys[:, start:stop].copy()


def unigram_entropy(text) -> float:
    """Entropy of the character frequencies of ``text``, in nats per character.

    It is the cross-entropy of the best model that ignores context (always
    predict the overall character frequencies), so it is the baseline a
    character-level RNN has to beat. Divide by ln 2 for bits.
    """
    if isinstance(text, str):
        if not text:
            raise ValueError("text must not be empty")
        _, counts = np.unique(
            np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32), return_counts=True
        )
    else:
        arr = np.asarray(text)
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"text must be a non-empty str or 1-D id array; got {describe(text)}")
        _, counts = np.unique(arr, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())
