"""LearnedActivationRegressor."""

import numpy as np
import torch
from sklearn.base import RegressorMixin

from ._base import LearnedActivationMixin

__all__ = ["LearnedActivationRegressor"]


class LearnedActivationRegressor(RegressorMixin, LearnedActivationMixin):
    """Neural-network regressor whose hidden activation can be learned.

    The regression twin of
    :class:`~sklearn_learnact.LearnedActivationClassifier`, trained on the
    mean squared error; it takes the same parameters (see there), with the
    validation score being R^2. One or several targets; predictions are
    float64, 1-D when ``y`` was 1-D.

    The network sees the target as given: standardise a target far from unit
    scale (e.g. with :class:`sklearn.compose.TransformedTargetRegressor`).

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained skorch net.
    history_ : pandas.DataFrame
        Per-epoch training (and validation) loss and score.
    learned_activations_ : pandas.DataFrame
        The learned activation parameters, one row per value.
    activations_ : tuple of torch.nn.Module
        The fitted activation modules, one per hidden layer.
    loss_curve_ : list of float
        Training loss per epoch.
    n_iter_ : int
        Epochs run.
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, when X had string column names.
    n_outputs_ : int
        Number of targets.
    device_ : str
        The device the net was trained on.

    See Also
    --------
    LearnedActivationClassifier : The classifier, with every parameter.
    sklearn.neural_network.MLPRegressor : The fixed-activation original.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_learnact import LearnedActivationRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-2, 2, size=(400, 1))
    >>> y = np.sin(2 * X[:, 0])
    >>> reg = LearnedActivationRegressor((32,), "rational", max_iter=300,
    ...                                  learning_rate_init=1e-2, random_state=0)
    >>> reg.fit(X, y).score(X, y) > 0.95
    True
    """

    _criterion = torch.nn.MSELoss
    _score_kind = "r2"
    _validate_y_kwargs = {"multi_output": True, "y_numeric": True}

    def _encode_target(self, y):
        y = np.asarray(y, dtype=np.float32)
        y_2d = y.reshape(-1, 1) if y.ndim == 1 else y
        y_t = torch.from_numpy(np.ascontiguousarray(y_2d))
        return y_t, y_2d.shape[1], {"_y_1d": y.ndim == 1}

    def predict(self, X):
        """Predicted targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs), float64
        """
        out = self._forward(X).double().numpy()
        return out.ravel() if self._y_1d else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
