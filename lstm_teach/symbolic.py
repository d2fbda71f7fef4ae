"""Symbolic derivations with sympy, to set beside the numbers.

The lessons use this module to *derive* what the numeric code computes, and
then check the two against each other:

* the IIR filter: its transfer function ``H(z) = b / (1 - w z^-1)``, its pole,
  and its impulse response ``b w^n`` read off a power series in ``z^-1``;
* backpropagation through the filter: ``dy_T / dy_t = w^(T-t)`` from the
  unrolled recurrence;
* the gamma memory: the transfer function of tap ``k`` and its mean delay ``k / mu``.

General tools (:func:`poles`, :func:`series_coefficients`, :func:`mean_delay`,
:func:`to_function`, :func:`sigmoid`) work on any expression, so new
derivations (for example the LSTM cell's ``dc_t / dc_{t-1}``) can be added as
new sections at the end of the file without touching the ones above.
"""

from __future__ import annotations

import sympy as sp

from ._checks import check_positive_int

# --------------------------------------------------------------------------------------
# general tools
# --------------------------------------------------------------------------------------


def symbols(names: str, **assumptions):
    """``sympy.symbols`` with real-valued symbols by default (the kit's signals are real)."""
    assumptions.setdefault("real", True)
    return sp.symbols(names, **assumptions)


def sigmoid(expr):
    """The logistic function ``1 / (1 + exp(-expr))`` as a sympy expression."""
    return 1 / (1 + sp.exp(-expr))


def poles(H, z) -> list:
    """The poles of a rational transfer function ``H`` in ``z``: roots of its denominator.

    Returns a list of sympy expressions (with multiplicity, in sympy's order).
    """
    _, denominator = sp.fraction(sp.together(sp.sympify(H)))
    roots = sp.roots(sp.Poly(denominator, z))
    return [r for r, multiplicity in roots.items() for _ in range(multiplicity)]


def zeros(H, z) -> list:
    """The zeros of a rational transfer function ``H`` in ``z``: roots of its numerator."""
    numerator, _ = sp.fraction(sp.together(sp.sympify(H)))
    if not numerator.has(z):
        return []
    roots = sp.roots(sp.Poly(numerator, z))
    return [r for r, multiplicity in roots.items() for _ in range(multiplicity)]


def series_coefficients(H, z, n: int) -> list:
    """The first ``n`` coefficients ``h_0, ..., h_{n-1}`` of ``H(z) = sum_k h_k z^-k``.

    For a causal filter these are the samples of its impulse response. The
    expansion is done in ``q = z^-1`` around ``q = 0`` (that is, ``z -> infinity``).
    """
    n = check_positive_int("n", n)
    q = sp.Dummy("q")
    expansion = sp.series(sp.sympify(H).subs(z, 1 / q), q, 0, n).removeO()
    return [sp.simplify(expansion.coeff(q, k)) for k in range(n)]


def mean_delay(H, z):
    """The centre of mass of the impulse response, ``sum_n n h_n / sum_n h_n``.

    With ``H(z) = sum_n h_n z^-n`` this is ``-H'(1) / H(1)`` (differentiate the
    series term by term and set z = 1). Valid when the series converges at
    z = 1, i.e. for a stable filter.
    """
    H = sp.sympify(H)
    return sp.simplify(-sp.diff(H, z).subs(z, 1) / H.subs(z, 1))


def to_function(expr, args):
    """Turn ``expr`` into a numpy function of ``args`` (a symbol or a sequence of symbols)."""
    return sp.lambdify(args, expr, modules="numpy")


# --------------------------------------------------------------------------------------
# the first-order IIR filter  y_t = w y_{t-1} + b x_t
# --------------------------------------------------------------------------------------


def iir_symbols():
    """The symbols ``(w, b, z)`` used by the IIR derivations (all real)."""
    return symbols("w b z")


def iir_transfer_function(w=None, b=None, z=None):
    """``H(z) = Y(z) / X(z) = b / (1 - w z^-1)``.

    Derivation: z-transform both sides of ``y_t = w y_{t-1} + b x_t`` (a one-step
    delay multiplies the transform by ``z^-1``): ``Y = w z^-1 Y + b X``, so
    ``Y (1 - w z^-1) = b X``.

    Arguments default to the symbols of :func:`iir_symbols`; pass numbers to
    get a concrete filter.
    """
    w0, b0, z0 = iir_symbols()
    w = w0 if w is None else sp.sympify(w)
    b = b0 if b is None else sp.sympify(b)
    z = z0 if z is None else z
    return b / (1 - w / z)


def iir_unrolled(T: int):
    """Unroll ``y_t = w y_{t-1} + b x_t`` for ``T`` steps, symbolically.

    Returns
    -------
    y : list of sympy expressions, length T + 1
        ``y[0]`` is the initial state symbol ``y_0``; ``y[t]`` is written in
        terms of ``y_0`` and the inputs ``x_1, ..., x_t``.
    y0 : sympy symbol
    xs : list of sympy symbols ``x_1, ..., x_T``
    """
    T = check_positive_int("T", T)
    w, b, _ = iir_symbols()
    y0 = symbols("y_0")
    xs = list(symbols(f"x_1:{T + 1}"))
    y = [y0]
    for x_t in xs:
        y.append(sp.expand(w * y[-1] + b * x_t))
    return y, y0, xs


def iir_state_gradient(T: int, t: int):
    """``dy_T / dy_t`` for the unrolled filter: the chain rule gives ``w^(T-t)``.

    Computed by restarting the unrolled recurrence from a symbolic ``y_t`` and
    differentiating ``y_T`` with respect to it, so the answer is derived, not typed in.
    """
    T = check_positive_int("T", T)
    if not 0 <= t <= T:
        raise ValueError(f"t must satisfy 0 <= t <= T = {T}; got {t}")
    if t == T:
        return sp.Integer(1)
    y, y_start, _ = iir_unrolled(T - t)
    return sp.simplify(sp.diff(y[-1], y_start))


# --------------------------------------------------------------------------------------
# the gamma memory (de Vries & Principe, 1992)
# --------------------------------------------------------------------------------------


def gamma_transfer_function(k: int, mu=None, z=None):
    """Transfer function of tap ``k``: ``G_k(z) = (mu z^-1 / (1 - (1 - mu) z^-1))^k``.

    Each stage is a leaky integrator with a unit delay; ``k`` stages in series
    multiply. Its series coefficients are the gamma kernel of
    :func:`lstm_teach.iir.gamma_kernel`, and :func:`mean_delay` gives ``k / mu``.
    """
    k = check_positive_int("k", k)
    mu = symbols("mu", positive=True) if mu is None else sp.sympify(mu)
    z = iir_symbols()[2] if z is None else z
    return (mu / z / (1 - (1 - mu) / z)) ** k


# --------------------------------------------------------------------------------------
# the LSTM cell: symbolic derivatives of the cell equations are added below this line
# (one section per derivation, each with a numeric check in the tests)
# --------------------------------------------------------------------------------------
