"""The default tuning space of the studies."""

from typing import Any

from ..nets import check_hidden_layer_sizes

__all__ = ["default_search_space"]


def default_search_space(trial, estimator) -> dict[str, Any]:
    """Learning rate, width and weight decay: the same for every activation.

    Parameters
    ----------
    trial : optuna.trial.Trial
    estimator : LearnedActivationClassifier or LearnedActivationRegressor
        Its number of hidden layers is kept; every layer gets the sampled width.

    Returns
    -------
    params : dict
        ``learning_rate_init`` (1e-4 to 1e-1, log), ``hidden_layer_sizes``
        (width 8 to 128, log) and ``alpha`` (L2 weight decay, 1e-6 to 1e-1,
        log), as estimator parameters.

    Examples
    --------
    >>> import optuna
    >>> from sklearn_learnact import LearnedActivationClassifier
    >>> from sklearn_learnact.studies import default_search_space
    >>> trial = optuna.trial.FixedTrial(
    ...     {"learning_rate_init": 1e-3, "width": 16, "alpha": 1e-4})
    >>> default_search_space(trial, LearnedActivationClassifier((32, 32)))
    {'learning_rate_init': 0.001, 'hidden_layer_sizes': (16, 16), 'alpha': 0.0001}
    """
    n_layers = len(check_hidden_layer_sizes(estimator.hidden_layer_sizes))
    lr = trial.suggest_float("learning_rate_init", 1e-4, 1e-1, log=True)
    width = trial.suggest_int("width", 8, 128, log=True)
    alpha = trial.suggest_float("alpha", 1e-6, 1e-1, log=True)
    return {
        "learning_rate_init": lr,
        "hidden_layer_sizes": (width,) * n_layers,
        "alpha": alpha,
    }
