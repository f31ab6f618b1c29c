"""The prose and the examples of the generated docstrings.

``fastact._api._docstring`` builds every public docstring (numpydoc) from the
registry (formula, derivative, parameters, special values) and from the
entries below: a one-line title, the functions to name under "See Also", and
the examples with their printed results.  Every example runs as a doctest
(tests/test_doctests.py) under every CPU variant, so the inputs are float64
and the results are printed rounded to 4 decimals: the same text whatever the
last bits.  Adding a function to the registry needs an entry here (the doctest
test fails without one).

An elementwise function's examples are generated from ``forward`` and
``backward``, the printed results of ``NAME(x).round(4)`` and of
``NAME_backward(np.ones_like(x), saved).round(4)`` for ``x = np.array(x)``,
and of one more forward call with the keyword arguments ``call``.  The
others spell their examples out in ``examples`` (forward, backward), where
``{f}`` and ``{b}`` stand for the public names (``fa.silu``, ``fa.swish``...)
of the forward and the backward.
"""

from dataclasses import dataclass

__all__ = ["Doc", "DOCS"]

X = "[-3.0, -1.0, 0.0, 1.0, 3.0]"
X6 = "[-3.0, -1.0, 1.0, 6.0, 9.0]"


@dataclass(frozen=True)
class Doc:
    title: str                 # the summary line
    forward: str = ""          # printed NAME(x).round(4)
    backward: str = ""         # printed NAME_backward(np.ones_like(x), saved).round(4)
    x: str = X                 # the example input
    call: str = ""             # keyword arguments of a second forward example ...
    call_forward: str = ""     # ... and its printed result
    related: tuple = ()        # other functions for "See Also"
    examples: tuple = ()       # (forward, backward) doctests written out


_PRELU = ("""\
>>> x = np.array([[-2.0, 1.0], [3.0, -4.0]])  # (batch, channels)
>>> w = np.array([0.1, 0.2])  # one slope per channel
>>> {f}(x, w).round(4)
array([[-0.2,  1. ],
       [ 3. , -0.8]])
>>> {f}(x, 0.25).round(4)  # one slope for every channel
array([[-0.5,  1. ],
       [ 3. , -1. ]])""", """\
>>> x = np.array([[-2.0, 1.0], [3.0, -4.0]])
>>> w = np.array([0.1, 0.2])
>>> dx, dweight = {b}(np.ones_like(x), x, w)
>>> dx.round(4)
array([[0.1, 1. ],
       [1. , 0.2]])
>>> dweight  # per channel: sum of dy * x where x <= 0
array([-2., -4.])""")

_RRELU = ("""\
>>> x = np.array([-3.0, -1.0, 0.0, 1.0, 3.0])
>>> {f}(x).round(4)  # eval: the slope (lower + upper) / 2
array([-0.6875, -0.2292,  0.    ,  1.    ,  3.    ])
>>> y = {f}(x, training=True, seed=7)  # a random slope each
>>> slopes = y[:2] / x[:2]
>>> bool(np.all((1 / 8 <= slopes) & (slopes <= 1 / 3)))
True""", """\
>>> x = np.array([-3.0, -1.0, 0.0, 1.0, 3.0])
>>> dy = np.ones_like(x)
>>> {b}(dy, x).round(4)  # eval
array([0.2292, 0.2292, 0.2292, 1.    , 1.    ])
>>> y = {f}(x, training=True, seed=7)
>>> dx = {b}(dy, x, training=True, seed=7)  # the same slopes
>>> bool(np.allclose(dx * x, y))
True""")

_ROWS = """\
>>> x = np.array([[1.0, 2.0, 3.0],
...               [1.0, 1.0, 1.0]])
"""

_SOFTMAX = (_ROWS + """\
>>> {f}(x).round(4)  # along the last axis: rows sum to 1
array([[0.09  , 0.2447, 0.6652],
       [0.3333, 0.3333, 0.3333]])
>>> {f}(x, axis=0).round(4)
array([[0.5   , 0.7311, 0.8808],
       [0.5   , 0.2689, 0.1192]])""", _ROWS + """\
>>> y = {f}(x)
>>> dy = np.array([[1.0, 0.0, 0.0],
...                [0.0, 0.0, 1.0]])
>>> {b}(dy, y).round(4)
array([[ 0.0819, -0.022 , -0.0599],
       [-0.1111, -0.1111,  0.2222]])""")

_LOG_SOFTMAX = (_ROWS + """\
>>> {f}(x).round(4)  # along the last axis
array([[-2.4076, -1.4076, -0.4076],
       [-1.0986, -1.0986, -1.0986]])
>>> {f}(x, axis=0).round(4)
array([[-0.6931, -0.3133, -0.1269],
       [-0.6931, -1.3133, -2.1269]])""", _ROWS + """\
>>> y = {f}(x)
>>> dy = np.array([[1.0, 0.0, 0.0],
...                [0.0, 0.0, 1.0]])
>>> {b}(dy, y).round(4)
array([[ 0.91  , -0.2447, -0.6652],
       [-0.3333, -0.3333,  0.6667]])""")

_MAXOUT_X = """\
>>> x = np.array([[1.0, 5.0, 3.0, 2.0],
...               [4.0, 0.0, -1.0, 7.0]])
"""

_MAXOUT = (_MAXOUT_X + """\
>>> {f}(x, 2)  # groups of 2 along the last axis
array([[5., 3.],
       [4., 7.]])
>>> {f}(x, 2, axis=0)
array([[4., 5., 3., 7.]])""", _MAXOUT_X + """\
>>> dy = np.array([[10.0, 20.0],
...                [30.0, 40.0]])
>>> {b}(dy, x, 2)  # each group's dy goes to its maximum
array([[ 0., 10., 20.,  0.],
       [30.,  0.,  0., 40.]])""")

DOCS = {
    "sigmoid": Doc(
        "Logistic sigmoid, elementwise.",
        "array([0.0474, 0.2689, 0.5   , 0.7311, 0.9526])",
        "array([0.0452, 0.1966, 0.25  , 0.1966, 0.0452])",
        related=("log_sigmoid", "silu", "hard_sigmoid")),
    "tanh": Doc(
        "Hyperbolic tangent, elementwise.",
        "array([-0.9951, -0.7616,  0.    ,  0.7616,  0.9951])",
        "array([0.0099, 0.42  , 1.    , 0.42  , 0.0099])",
        related=("softsign", "hardtanh", "sigmoid")),
    "relu": Doc(
        "Rectified linear unit, elementwise.",
        "array([0., 0., 0., 1., 3.])",
        "array([0., 0., 0., 1., 1.])",
        related=("leaky_relu", "relu6", "prelu", "rrelu")),
    "leaky_relu": Doc(
        "Leaky rectified linear unit, elementwise.",
        "array([-0.03, -0.01,  0.  ,  1.  ,  3.  ])",
        "array([0.01, 0.01, 0.01, 1.  , 1.  ])",
        call="alpha=0.1", call_forward="array([-0.3, -0.1,  0. ,  1. ,  3. ])",
        related=("relu", "prelu", "rrelu")),
    "prelu": Doc(
        "Parametric ReLU: a leaky ReLU with a learned slope per channel.",
        related=("leaky_relu", "rrelu"), examples=_PRELU),
    "rrelu": Doc(
        "Randomized leaky ReLU: random slopes in training, their mean in eval.",
        related=("leaky_relu", "prelu"), examples=_RRELU),
    "relu6": Doc(
        "Rectified linear unit capped at 6, elementwise.",
        "array([0., 0., 1., 6., 6.])",
        "array([0., 0., 1., 0., 0.])",
        x=X6, related=("relu", "leaky_relu6", "hardtanh")),
    "leaky_relu6": Doc(
        "Leaky rectified linear unit capped at 6, elementwise.",
        "array([-0.03, -0.01,  1.  ,  6.  ,  6.  ])",
        "array([0.01, 0.01, 1.  , 0.  , 0.  ])",
        x=X6, call="alpha=0.1", call_forward="array([-0.3, -0.1,  1. ,  6. ,  6. ])",
        related=("relu6", "leaky_relu")),
    "hardtanh": Doc(
        "Hard tanh: x clipped to [min_val, max_val], elementwise.",
        "array([-1., -1.,  0.,  1.,  1.])",
        "array([0., 0., 1., 0., 0.])",
        call="min_val=-2.0, max_val=2.0", call_forward="array([-2., -1.,  0.,  1.,  2.])",
        related=("tanh", "relu6")),
    "silu": Doc(
        "Sigmoid-weighted linear unit (SiLU, Swish), elementwise.",
        "array([-0.1423, -0.2689,  0.    ,  0.7311,  2.8577])",
        "array([-0.0881,  0.0723,  0.5   ,  0.9277,  1.0881])",
        call="beta=2.0", call_forward="array([-0.0074, -0.1192,  0.    ,  0.8808,  2.9926])",
        related=("sigmoid", "hard_swish", "gelu", "mish")),
    "hard_sigmoid": Doc(
        "Piecewise-linear sigmoid, elementwise.",
        "array([0.    , 0.3333, 0.5   , 0.6667, 1.    ])",
        "array([0.    , 0.1667, 0.1667, 0.1667, 0.    ])",
        related=("sigmoid", "hard_swish")),
    "hard_swish": Doc(
        "Hard Swish: x times the piecewise-linear sigmoid, elementwise.",
        "array([ 0.    , -0.3333,  0.    ,  0.6667,  3.    ])",
        "array([0.    , 0.1667, 0.5   , 0.8333, 1.    ])",
        related=("silu", "hard_sigmoid")),
    "softplus": Doc(
        "Softplus, a smooth rectified linear unit, elementwise.",
        "array([0.0486, 0.3133, 0.6931, 1.3133, 3.0486])",
        "array([0.0474, 0.2689, 0.5   , 0.7311, 0.9526])",
        call="beta=0.5", call_forward="array([0.4028, 0.9482, 1.3863, 1.9482, 3.4028])",
        related=("relu", "log_sigmoid")),
    "gelu": Doc(
        "Gaussian error linear unit, elementwise.",
        "array([-0.004 , -0.1587,  0.    ,  0.8413,  2.996 ])",
        "array([-0.0119, -0.0833,  0.5   ,  1.0833,  1.0119])",
        call="approximate='tanh'", call_forward="array([-0.0036, -0.1588,  0.    ,  0.8412,  2.9964])",
        related=("silu", "mish")),
    "elu": Doc(
        "Exponential linear unit, elementwise.",
        "array([-0.9502, -0.6321,  0.    ,  1.    ,  3.    ])",
        "array([0.0498, 0.3679, 1.    , 1.    , 1.    ])",
        call="alpha=0.5", call_forward="array([-0.4751, -0.3161,  0.    ,  1.    ,  3.    ])",
        related=("selu", "celu")),
    "selu": Doc(
        "Scaled exponential linear unit, elementwise.",
        "array([-1.6706, -1.1113,  0.    ,  1.0507,  3.1521])",
        "array([0.0875, 0.6468, 1.7581, 1.0507, 1.0507])",
        related=("elu", "celu")),
    "celu": Doc(
        "Continuously differentiable exponential linear unit, elementwise.",
        "array([-0.9502, -0.6321,  0.    ,  1.    ,  3.    ])",
        "array([0.0498, 0.3679, 1.    , 1.    , 1.    ])",
        call="alpha=0.5", call_forward="array([-0.4988, -0.4323,  0.    ,  1.    ,  3.    ])",
        related=("elu", "selu")),
    "mish": Doc(
        "Mish: x tanh(softplus(x)), elementwise.",
        "array([-0.1456, -0.3034,  0.    ,  0.8651,  2.9865])",
        "array([-0.0934,  0.0592,  0.6   ,  1.049 ,  1.0211])",
        related=("silu", "softplus")),
    "softsign": Doc(
        "Softsign: x / (1 + |x|), elementwise.",
        "array([-0.75, -0.5 ,  0.  ,  0.5 ,  0.75])",
        "array([0.0625, 0.25  , 1.    , 0.25  , 0.0625])",
        related=("tanh",)),
    "log_sigmoid": Doc(
        "Logarithm of the logistic sigmoid, elementwise.",
        "array([-3.0486, -1.3133, -0.6931, -0.3133, -0.0486])",
        "array([0.9526, 0.7311, 0.5   , 0.2689, 0.0474])",
        related=("sigmoid", "softplus")),
    "softmax": Doc(
        "Softmax along an axis.", related=("log_softmax",), examples=_SOFTMAX),
    "log_softmax": Doc(
        "Logarithm of the softmax along an axis.", related=("softmax",), examples=_LOG_SOFTMAX),
    "maxout": Doc(
        "Maxout: the maximum of each group of consecutive entries along an axis.",
        related=("relu",), examples=_MAXOUT),
    "identity": Doc(
        "Identity (the linear activation): x itself, as a new array.",
        "array([-3., -1.,  0.,  1.,  3.])",
        "array([1., 1., 1., 1., 1.])"),
}
