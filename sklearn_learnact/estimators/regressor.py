"""LearnedActivationRegressor."""

import numpy as np
import torch
from sklearn.base import RegressorMixin

from .._validation import Boolean
from ._base import LearnedActivationEstimator

__all__ = ["LearnedActivationRegressor"]


class LearnedActivationRegressor(RegressorMixin, LearnedActivationEstimator):
    """Neural-network regressor whose hidden activation can be learned.

    The regression twin of
    :class:`~sklearn_learnact.LearnedActivationClassifier`, trained on the
    mean squared error; it takes the same parameters (see there) except
    ``class_weight``, plus ``standardize_target``, with R^2 as the validation
    score. One or several targets; predictions are float64, 1-D when ``y``
    was 1-D.

    Parameters
    ----------
    standardize_target : bool, default=True
        Learn on the standardised target ``(y - mean) / std`` (per output,
        weighted by ``sample_weight``) and map the network's outputs back in
        ``predict``. A raw target far from unit scale (prices, counts) makes
        the initial loss huge and the fixed learning rate far too small, so
        the networks stay under-trained and activations compare by luck; the
        standardised one trains like any other. False learns on ``y`` as
        given. The training and validation losses in ``history_`` are on the
        standardised scale; R^2 is the same on both.
    **params
        Every other parameter of
        :class:`~sklearn_learnact.LearnedActivationClassifier` but
        ``class_weight``.

    Attributes
    ----------
    target_mean_, target_scale_ : ndarray of shape (n_outputs,)
        The standardisation: ``predict = output * target_scale_ +
        target_mean_`` (0 and 1 with ``standardize_target=False``).
    net_ : skorch.NeuralNet
        The trained skorch net.
    history_ : pandas.DataFrame
        Per-epoch training (and validation) loss and score.
    learned_activations_ : pandas.DataFrame
        The learned activation parameters, one row per value.
    activations_ : tuple of torch.nn.Module
        The fitted activation modules, one per hidden layer.
    loss_curve_ : list of float
        Training loss per epoch (standardised scale).
    best_loss_, validation_scores_, best_validation_score_ : float, list or None
        As in ``MLPRegressor`` (validation scores are R^2).
    coefs_, intercepts_ : list of ndarray
        Weights and biases of each weighted layer.
    n_iter_ : int
        Epochs run.
    converged_ : bool
        Whether the last ``fit`` stopped before its epoch budget (by early
        stopping, in every cycle of the schedule); False when it ran all its
        epochs while still improving (the ``ConvergenceWarning`` says so), as
        in :class:`~sklearn.mixture.GaussianMixture`.
    t_ : int
        Training samples seen by the optimiser.
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, when X had string column names.
    n_outputs_ : int
        Number of targets.
    activation_ : str
        The activation the network was fitted with.
    device_ : torch.device
        The device the fitted network is on.
    replaced_activations_ : dict
        Hidden activations replaced after fitting (e.g. by the compressor).

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
    >>> y = 1000 * np.sin(2 * X[:, 0]) + 5000  # a raw target, far from unit scale
    >>> reg = LearnedActivationRegressor((32,), "rational", max_iter=300,
    ...                                  learning_rate_init=1e-2, random_state=0)
    >>> reg.fit(X, y).score(X, y) > 0.95
    True
    """

    _criterion = torch.nn.MSELoss
    _score_kind = "r2"
    _validate_y_kwargs = {"multi_output": True, "y_numeric": True}

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="mixture",
        *,
        activation_params=None,
        learn_activation=True,
        activation_lr=None,
        schedule="joint",
        cycle_epochs=None,
        alpha=1e-4,
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter=200,
        shuffle=True,
        tol=1e-4,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        warm_start=False,
        architecture="mlp",
        image_shape=None,
        standardize_target=True,
        device="auto",
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            hidden_layer_sizes,
            activation,
            activation_params=activation_params,
            learn_activation=learn_activation,
            activation_lr=activation_lr,
            schedule=schedule,
            cycle_epochs=cycle_epochs,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate_init=learning_rate_init,
            max_iter=max_iter,
            shuffle=shuffle,
            tol=tol,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            warm_start=warm_start,
            architecture=architecture,
            image_shape=image_shape,
            device=device,
            random_state=random_state,
            verbose=verbose,
        )
        self.standardize_target = standardize_target

    _parameter_constraints: dict = {
        **LearnedActivationEstimator._parameter_constraints,
        "standardize_target": [Boolean()],
    }

    def _encode_target(self, y, sample_weight, reset: bool):
        y = np.asarray(y, dtype=np.float64)
        y_2d = y.reshape(-1, 1) if y.ndim == 1 else y
        if not reset:
            if y_2d.shape[1] != self.n_outputs_:
                raise ValueError(
                    f"y has {y_2d.shape[1]} output(s) but the fitted model "
                    f"predicts {self.n_outputs_}."
                )
            mean, scale = self.target_mean_, self.target_scale_
        elif self.standardize_target:
            mean = np.average(y_2d, axis=0, weights=sample_weight)
            var = np.average((y_2d - mean) ** 2, axis=0, weights=sample_weight)
            scale = np.sqrt(var)
            scale[~(scale > np.finfo(np.float32).tiny)] = 1.0  # a constant target
        else:
            mean, scale = np.zeros(y_2d.shape[1]), np.ones(y_2d.shape[1])
        y_std = ((y_2d - mean) / scale).astype(np.float32)
        attrs = {
            "target_mean_": mean,
            "target_scale_": scale,
            "_y_1d": y.ndim == 1 if reset else self._y_1d,
        }
        return torch.from_numpy(np.ascontiguousarray(y_std)), y_2d.shape[1], attrs

    def partial_fit(self, X, y, sample_weight=None, callbacks=None):
        """Train one epoch on ``(X, y)``, from the current weights if fitted.

        As in ``MLPRegressor``: the first call builds the network (and the
        target standardisation, from this first batch); later calls continue
        its training.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), optional
        callbacks : list of skorch callbacks, optional
            As in :meth:`fit`.

        Returns
        -------
        self : object
        """
        return self._partial_fit(X, y, sample_weight, callbacks)

    def predict(self, X):
        """Predicted targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs), float64
        """
        out = self._forward(X).double().numpy() * self.target_scale_
        out += self.target_mean_
        return out.ravel() if self._y_1d else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
