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

from ..core._checks import check_positive_int

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


# ---- dc_t / dc_{t-1}: the constant error carousel and the paths through the gates ----


def lstm_cell_symbols():
    """The symbols of a one-unit LSTM cell with one input (all real).

    Returns a dict: ``x`` (input x_t), ``c_prev`` (c_{t-1}), ``o_prev`` (o_{t-1},
    the output gate of the previous step, which sets h_{t-1} = o_{t-1} tanh(c_{t-1})),
    and for each block ``k`` in ``i, f, g, o`` the input weight ``w_k``, the
    recurrent weight ``u_k`` and the bias ``b_k``; plus the peephole weights
    ``p_i``, ``p_f``, ``p_o`` and ``a_o``, the part of o_{t-1}'s pre-activation
    that does not come through its peephole (used only with peepholes, where
    o_{t-1} = sigmoid(a_o + p_o c_{t-1}) replaces the constant ``o_prev``).
    """
    names = "x c_prev o_prev w_i w_f w_g w_o u_i u_f u_g u_o b_i b_f b_g b_o p_i p_f p_o a_o"
    return dict(zip(names.split(), symbols(names), strict=True))


def lstm_cell_state_derivative(peepholes: bool = False, forget_gate: bool = True) -> dict:
    """Derive ``dc_t / dc_{t-1}`` for a one-unit LSTM cell, and split it into its paths.

    The cell::

        o_{t-1} = o_prev                                  (without peepholes: a constant)
        o_{t-1} = sigmoid(a_o + p_o c_{t-1})              (with peepholes: it reads c_{t-1})
        h_{t-1} = o_{t-1} tanh(c_{t-1})
        i_t = sigmoid(w_i x + u_i h_{t-1} + b_i [+ p_i c_{t-1}])
        f_t = sigmoid(w_f x + u_f h_{t-1} + b_f [+ p_f c_{t-1}])     (1 without a forget gate)
        g_t = tanh(w_g x + u_g h_{t-1} + b_g)
        c_t = f_t c_{t-1} + i_t g_t

    ``c_{t-1}`` reaches ``c_t`` directly (the carousel, weight ``f_t``) and
    through the three gates, which see ``c_{t-1}`` via ``h_{t-1}`` (and, with
    peepholes, directly). With peepholes ``h_{t-1}`` itself depends on
    ``c_{t-1}`` twice: through ``tanh(c_{t-1})`` and through the output gate
    ``o_{t-1}``, whose peephole reads ``c_{t-1}``. The chain rule gives

        dc_t/dc_{t-1} = f_t + c_{t-1} df_t/dc_{t-1} + g_t di_t/dc_{t-1} + i_t dg_t/dc_{t-1},

    where each total derivative ``d./dc_{t-1}`` follows every route.

    Returns
    -------
    dict
        ``"c"``: c_t; ``"total"``: dc_t/dc_{t-1} as sympy computes it;
        ``"carousel"``: f_t; ``"paths"``: {"forget gate", "input gate",
        "candidate"} -> the three gate terms; ``"h_prev"``: h_{t-1};
        ``"o_prev"``: o_{t-1} (a symbol, or its peephole expression);
        ``"h_prev_routes"``: dh_{t-1}/dc_{t-1} split into ``"tanh"``
        (o_{t-1} (1 - tanh^2 c_{t-1})) and ``"output gate"`` (tanh(c_{t-1})
        do_{t-1}/dc_{t-1}, zero without peepholes);
        ``"symbols"``: :func:`lstm_cell_symbols`. ``total - carousel - sum(paths)``
        simplifies to 0, and so does ``dh_{t-1}/dc_{t-1} - sum(h_prev_routes)``.
    """
    s = lstm_cell_symbols()
    c_prev = s["c_prev"]
    o_prev = sigmoid(s["a_o"] + s["p_o"] * c_prev) if peepholes else s["o_prev"]
    h_prev = o_prev * sp.tanh(c_prev)

    def z(k):
        return s[f"w_{k}"] * s["x"] + s[f"u_{k}"] * h_prev + s[f"b_{k}"]

    z_i, z_f = z("i"), z("f")
    if peepholes:
        z_i += s["p_i"] * c_prev
        z_f += s["p_f"] * c_prev
    i = sigmoid(z_i)
    f = sigmoid(z_f) if forget_gate else sp.Integer(1)
    g = sp.tanh(z("g"))
    c = f * c_prev + i * g
    paths = {
        "forget gate": c_prev * sp.diff(f, c_prev),
        "input gate": g * sp.diff(i, c_prev),
        "candidate": i * sp.diff(g, c_prev),
    }
    h_prev_routes = {
        "tanh": o_prev * (1 - sp.tanh(c_prev) ** 2),
        "output gate": sp.tanh(c_prev) * sp.diff(o_prev, c_prev),
    }
    return {
        "c": c,
        "total": sp.diff(c, c_prev),
        "carousel": f,
        "paths": paths,
        "h_prev": h_prev,
        "o_prev": o_prev,
        "h_prev_routes": h_prev_routes,
        "symbols": s,
    }
