"""What one fit says about itself: under-training and learned activations that
did not move.

Under-trained
-------------
A fit is *under-trained* when it emitted the estimator's
:class:`~sklearn.exceptions.ConvergenceWarning`: it ran all the epochs
``max_iter`` allows while its early-stopping rule still saw improvement (the
monitored validation score, or the training loss without early stopping,
improved by more than ``tol`` within the last ``n_iter_no_change`` epochs).
Its score is that of a model still learning, and a ranking of such models
ranks training speed as much as the activations.

Movement of a learned activation
--------------------------------
For each hidden layer, the inputs the activation received on the training
data span a range ``[low, high]`` (:func:`activation_input_ranges`). Over 201
evenly spaced points of that range, the activation's *movement* is

.. math::

    \\text{movement} = \\frac{\\max_x |f_\\text{learned}(x) - f_\\text{init}(x)|}
                           {\\max_x f_\\text{init}(x) - \\min_x f_\\text{init}(x)}

the largest change of its output from the function it started as, relative
to the range of the initial function's output over the same inputs (for
per-neuron activations, the largest over the neurons). 0 means it kept its
initial shape; 0.1 means some output moved by a tenth of the initial output's
range. The movement of a model is the largest over its layers; below
:data:`BARELY_MOVED` the activation is reported as having barely moved from
its initialisation: "learned" then means "still at its initial shape".
"""

import copy
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import Callback

from ..activations import activation_spec
from ..estimators import learnact_step

__all__ = [
    "BARELY_MOVED",
    "InitialActivations",
    "activation_input_ranges",
    "activation_movement",
    "activation_outputs",
    "is_under_trained",
]

#: Movement below which a learned activation counts as not having learned.
BARELY_MOVED = 0.05
#: Points of the input range where the movement is measured.
_N_POINTS = 201


class InitialActivations(Callback):
    """A skorch callback keeping a copy of the hidden activation modules as
    they are when training starts (after the initialisation).

    Pass it to one ``fit`` (``est.fit(X, y, callbacks=[("initial", cb)])``);
    ``cb.modules_`` then holds the initial modules, one per hidden layer.
    Only the first training run of the fit is recorded (the alternating
    schedule trains in three runs).
    """

    def __init__(self):
        self.modules_ = None

    def on_train_begin(self, net, **kwargs):
        if self.modules_ is None:
            # the torch module of the net, documented as the estimators'
            # public surface (``net_.module_.activations``)
            self.modules_ = [copy.deepcopy(m) for m in net.module_.activations]


def activation_outputs(module: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    """An activation module's outputs at the points ``x``, one column per neuron.

    Parameters
    ----------
    module : torch.nn.Module
        A hidden activation (``estimator.activations_[i]``).
    x : ndarray of shape (n_points,)

    Returns
    -------
    y : ndarray of shape (n_points, n_curves)
        float64; ``n_curves`` is the module's ``num_parameters`` (one curve per
        neuron or channel for a per-neuron activation), else 1.

    Examples
    --------
    >>> import numpy as np
    >>> from torch import nn
    >>> from sklearn_learnact.evaluation import activation_outputs
    >>> activation_outputs(nn.ReLU(), np.array([-1.0, 2.0])).ravel().tolist()
    [0.0, 2.0]
    """
    n_curves = int(getattr(module, "num_parameters", 1))
    first = next(module.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    xt = torch.as_tensor(np.asarray(x, dtype=np.float32))[:, None]
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            y = module(xt.expand(-1, n_curves).to(device))
    finally:
        module.train(was_training)
    return y.cpu().numpy().astype(np.float64)


def activation_input_ranges(estimator, X) -> list[tuple[float, float]]:
    """The range of the inputs each hidden activation receives on ``X``.

    Parameters
    ----------
    estimator : estimator
        A fitted learned-activation classifier or regressor, or a pipeline
        ending in one (``X`` then goes through the pipeline's steps).
    X : array-like of shape (n_samples, n_features)

    Returns
    -------
    ranges : list of (float, float)
        ``(min, max)`` of the finite pre-activation values of each hidden layer
        (over all its neurons or channels), in layer order.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_learnact import LearnedActivationClassifier
    >>> from sklearn_learnact.evaluation import activation_input_ranges
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LearnedActivationClassifier((8, 8), "relu", max_iter=2).fit(X, y)
    >>> len(activation_input_ranges(clf, X))
    2
    """
    _, inner = learnact_step(estimator)
    modules = inner.activations_
    low = [np.inf] * len(modules)
    high = [-np.inf] * len(modules)

    def recorder(i):
        def record(module, args):
            values = args[0].detach()
            values = values[torch.isfinite(values)]
            if values.numel():
                lo, hi = torch.aminmax(values)
                low[i], high[i] = min(low[i], lo.item()), max(high[i], hi.item())

        return record

    handles = [m.register_forward_pre_hook(recorder(i)) for i, m in enumerate(modules)]
    try:
        estimator.predict(X)  # the public way to run the network on X
    finally:
        for handle in handles:
            handle.remove()
    return [(float(lo), float(hi)) for lo, hi in zip(low, high)]


def activation_movement(
    estimator, initial, ranges: list[tuple[float, float]]
) -> list[dict]:
    """How far each learned hidden activation moved from its initial shape.

    Parameters
    ----------
    estimator : estimator
        A fitted learned-activation estimator or a pipeline ending in one.
    initial : sequence of torch.nn.Module
        The hidden activations as they were before training
        (:class:`InitialActivations`).
    ranges : list of (float, float)
        Per layer, the input range to compare on
        (:func:`activation_input_ranges` of the training data).

    Returns
    -------
    layers : list of dict
        Per learnable layer: ``layer`` (1-based), ``low``, ``high``,
        ``max_change`` (``max |f_learned - f_init|`` over the range), ``scale``
        (max - min of f_init there) and ``movement`` (their ratio, see the
        module's docstring). Fixed activations are left out.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_learnact import LearnedActivationClassifier
    >>> from sklearn_learnact.evaluation import (InitialActivations,
    ...     activation_input_ranges, activation_movement)
    >>> X, y = load_iris(return_X_y=True)
    >>> start = InitialActivations()
    >>> clf = LearnedActivationClassifier((8,), "affine", max_iter=5,
    ...     random_state=0).fit(X, y, callbacks=[("start", start)])
    >>> ranges = activation_input_ranges(clf, X)
    >>> layer = activation_movement(clf, start.modules_, ranges)[0]
    >>> layer["movement"] > 0
    True
    """
    _, inner = learnact_step(estimator)
    out = []
    for i, (module, before) in enumerate(zip(inner.activations_, initial)):
        spec = activation_spec(module)
        if spec is None or not spec.learnable:
            continue
        low, high = ranges[i]
        if not (np.isfinite(low) and np.isfinite(high)):
            continue
        x = np.linspace(low, high, _N_POINTS)
        f, f0 = activation_outputs(module, x), activation_outputs(before, x)
        change = float(np.max(np.abs(f - f0)))
        scale = float(np.max(np.ptp(f0, axis=0)))
        out.append(
            {
                "layer": i + 1,
                "low": low,
                "high": high,
                "max_change": change,
                "scale": scale,
                "movement": change / scale if scale > 0 else change,
            }
        )
    return out


def is_under_trained(caught: list[warnings.WarningMessage]) -> bool:
    """Whether warnings ``caught`` during a fit include the estimator's
    :class:`~sklearn.exceptions.ConvergenceWarning` (max epochs reached while
    still improving)."""
    return any(issubclass(w.category, ConvergenceWarning) for w in caught)
