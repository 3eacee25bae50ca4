"""LearnedActivationClassifier."""

import math
import numbers

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets

from .._validation import Options, Satisfies
from ._base import LearnedActivationEstimator

__all__ = ["LearnedActivationClassifier"]


def _class_weight_dict(value) -> bool:
    """A dict of finite weights >= 0, one of them > 0 (as sample weights)."""
    weights = list(value.values()) if isinstance(value, dict) else None
    return bool(
        weights
        and all(
            isinstance(w, numbers.Real)
            and not isinstance(w, (bool, np.bool_))
            and math.isfinite(w)
            and w >= 0
            for w in weights
        )
        and any(w > 0 for w in weights)
    )


class LearnedActivationClassifier(ClassifierMixin, LearnedActivationEstimator):
    """Neural-network classifier whose hidden activation can be learned.

    A PyTorch MLP (or small CNN) trained through skorch with Adam on the
    cross-entropy of its logits. The hidden activation is a hyperparameter:
    any fixed name of the registry (``"relu"``, ``"tanh"``, ...) or a learnable
    one (``"affine"``, ``"prelu"``, ``"swish"``, ``"mixture"``,
    ``"rational"``, ``"spline"``, ``"mlp"``), so a grid search can compare
    learned and fixed activations on equal terms. Parameter names follow
    :class:`sklearn.neural_network.MLPClassifier`.

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default=(100,)
        Width of each hidden layer (the dense layers after the convolutions
        when ``architecture="cnn"``).
    activation : str, default="mixture"
        Registry name of the hidden activation, see
        :func:`~sklearn_learnact.activations.available_activations`. Every
        hidden layer gets its own module: learned parameters are per layer.
    activation_params : dict, optional
        Options of the activation, e.g. ``{"basis": ("relu", "tanh", "sin")}``
        for ``"mixture"`` or ``{"degrees": (5, 4)}`` for ``"rational"``, plus
        ``"per_neuron": True`` for one set of parameters per unit/channel.
    learn_activation : bool, default=True
        False freezes the activation's parameters at their initial values: the
        same function family, fixed (the fair "not learned" control).
    activation_lr : float, optional
        Learning rate of the activation parameters, which never get weight
        decay. None means ``learning_rate_init`` for ``schedule="joint"`` and
        ``1e-2`` for the activation cycle of ``"alternating"``.
    schedule : {"joint", "alternating"}, default="joint"
        ``"joint"`` trains everything together for up to ``max_iter`` epochs.
        ``"alternating"`` is three cycles: the network with the
        activations frozen, then only the activations, then the network again.
    cycle_epochs : int or (int, int, int), optional
        Epochs of the three alternating cycles; None splits ``max_iter``
        evenly (``max_iter=30`` gives 10/10/10).
    alpha : float, default=1e-4
        L2 penalty on the weights (not biases, not activations), scaled as in
        ``MLPClassifier``: the Adam weight decay is ``alpha / batch_size``.
    batch_size : int or "auto", default="auto"
        Minibatch size; ``"auto"`` is ``min(200, n_samples)``.
    learning_rate_init : float, default=1e-3
        Adam's learning rate.
    max_iter : int, default=200
        Maximum number of epochs.
    shuffle : bool, default=True
        Shuffle the training samples every epoch.
    tol : float, default=1e-4
        Minimum improvement of the monitored quantity (training loss, or the
        validation score with ``early_stopping``) that counts as progress.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data, record
        ``valid_loss`` and ``valid_score`` each epoch, stop when the validation
        accuracy stops improving, and keep the best epoch's weights.
    validation_fraction : float, default=0.1
        Share of the training data held out when ``early_stopping=True``.
    n_iter_no_change : int, default=10
        Epochs without progress before stopping.
    warm_start : bool, default=False
        When True, ``fit`` continues training the fitted network (its weights
        and Adam's state) for up to ``max_iter`` more epochs instead of
        starting anew, as in ``MLPClassifier``; X must keep its features and
        y its classes.
    architecture : {"mlp", "cnn"}, default="mlp"
        ``"cnn"`` is a small convolutional network (two 5x5 convolutions with max-
        pooling, then the dense layers); it needs ``image_shape``. X stays 2-D.
    image_shape : (int, int, int), optional
        ``(C, H, W)`` of the flattened images in X, for ``architecture="cnn"``.
    device : str, default="auto"
        ``"auto"`` trains on CUDA when available, else on the CPU.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, multiplied into ``sample_weight``:
        ``{label: weight}`` (finite weights >= 0, not all 0, as sample
        weights), or ``"balanced"`` for weights inversely proportional to the
        class frequencies (as in scikit-learn).
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation, the shuffling and the validation split from
        generators owned by the fit: the same value gives the same model on the
        CPU, also when several fits run at once in threads. Torch's global
        random state is left as it was.
    verbose : int, default=0
        1 shows a progress bar over epochs with the loss and validation score,
        2 also skorch's per-epoch table.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_`` is the torch module.
    history_ : pandas.DataFrame
        Per epoch: ``train_loss``, ``dur``, and with ``early_stopping``
        ``valid_loss`` and ``valid_score`` (accuracy); ``cycle`` with the
        alternating schedule.
    learned_activations_ : pandas.DataFrame
        The learned activation parameters, one row per value.
    activations_ : tuple of torch.nn.Module
        The fitted activation modules, one per hidden layer.
    loss_curve_ : list of float
        Training loss per epoch.
    best_loss_ : float or None
        Lowest training loss (None with ``early_stopping``), as in
        ``MLPClassifier``.
    validation_scores_ : list of float or None
        Validation accuracy per epoch with ``early_stopping``, else None.
    best_validation_score_ : float or None
        Best of ``validation_scores_`` (its weights are the ones kept).
    coefs_, intercepts_ : list of ndarray
        Weights and biases of each weighted layer, as in ``MLPClassifier``
        (dense weights as ``(n_inputs, n_outputs)``).
    n_iter_ : int
        Epochs run (over all ``fit`` calls with ``warm_start``).
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
        Number of network outputs (classes).
    activation_ : str
        The activation the network was fitted with.
    device_ : torch.device
        The device the fitted network is on (read from its parameters).
    replaced_activations_ : dict
        Hidden activations replaced after fitting (layer index -> module
        type), e.g. by the compressor; empty after ``fit``.

    See Also
    --------
    LearnedActivationRegressor : The regressor.
    sklearn.neural_network.MLPClassifier : The fixed-activation original.

    Notes
    -----
    On the CPU, an MLP with fewer than about 5 million multiply-adds per batch
    trains and predicts on one thread: at that size one thread is faster, and
    several threads can stall each other on a busy machine. Torch's thread
    setting is restored afterwards.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_learnact import LearnedActivationClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LearnedActivationClassifier((16,), "mixture", max_iter=300,
    ...                                   learning_rate_init=1e-2, random_state=0)
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    >>> clf.learned_activations_.columns.tolist()
    ['layer', 'activation', 'parameter', 'neuron', 'value']
    """

    _criterion = torch.nn.CrossEntropyLoss
    _score_kind = "accuracy"

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
        class_weight=None,
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
        self.class_weight = class_weight

    _parameter_constraints: dict = {
        **LearnedActivationEstimator._parameter_constraints,
        "class_weight": [
            None,
            Options("balanced"),
            Satisfies(
                _class_weight_dict,
                "a dict {class label: weight} of finite weights >= 0, one of them "
                "> 0 (as sample weights)",
            ),
        ],
    }

    def _encode_target(self, y, sample_weight, reset: bool, classes=None):
        check_classification_targets(y)
        if reset:
            classes = np.unique(y) if classes is None else np.asarray(classes)
            unseen = np.setdiff1d(np.unique(y), classes)
            if unseen.size:
                raise ValueError(
                    f"y has labels {unseen.tolist()} that are not in classes="
                    f"{classes.tolist()}."
                )
            if len(classes) < 2:
                raise ValueError(
                    f"The training data has only one class ({classes[0]!r}); a "
                    "classifier needs samples of at least two classes."
                )
        else:
            classes = self.classes_
            unseen = np.setdiff1d(np.unique(y), classes)
            if unseen.size:
                raise ValueError(
                    f"y has labels {unseen.tolist()} that the fitted model does not "
                    f"know (classes_ = {classes.tolist()}); continuing training "
                    "(warm_start, partial_fit) keeps the classes of the first fit."
                )
        encoder = LabelEncoder().fit(classes)
        y_t = torch.from_numpy(encoder.transform(y).astype(np.int64))
        return y_t, len(classes), {"classes_": encoder.classes_}

    def _class_weights(self, y, sample_weight):
        if self.class_weight is None:
            return sample_weight
        weight = compute_sample_weight(self.class_weight, y)
        weight = weight if sample_weight is None else weight * sample_weight
        if not weight.sum() > 0:
            raise ValueError(
                f"class_weight={self.class_weight!r} (with sample_weight) gives every "
                "sample of y weight 0: at least one sample needs a positive weight."
            )
        return weight

    def partial_fit(self, X, y, classes=None, sample_weight=None, callbacks=None):
        """Train one epoch on ``(X, y)``, from the current weights if fitted.

        As in ``MLPClassifier``: the first call builds the network (pass every
        label in ``classes`` if this batch may not show them all); later calls
        continue its training, with the classes of the first call.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), optional
            All the labels, at the first call; ignored afterwards.
        sample_weight : array-like of shape (n_samples,), optional
        callbacks : list of skorch callbacks, optional
            As in :meth:`fit`.

        Returns
        -------
        self : object
        """
        return self._partial_fit(X, y, sample_weight, callbacks, classes=classes)

    def decision_function(self, X):
        """The network's logits: confidence scores per class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes), float64
            For two classes, the log-odds of ``classes_[1]`` (as scikit-learn's
            binary classifiers); else one logit per class.
        """
        logits = self._forward(X).double()
        if logits.shape[1] == 2:
            return (logits[:, 1] - logits[:, 0]).numpy()
        return logits.numpy()

    def predict_proba(self, X):
        """Class probabilities (softmax of the logits).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), float64
        """
        return torch.softmax(self._forward(X).double(), dim=1).numpy()

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`, computed stably from the logits."""
        return torch.log_softmax(self._forward(X).double(), dim=1).numpy()

    def predict(self, X):
        """Most probable class for each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        best = self._forward(X).argmax(dim=1).numpy()  # checks it is fitted first
        return self.classes_[best]
