"""A fitted network as plain values and tensors, and back: what a saved model
holds instead of a pickled skorch net (:mod:`sklearn_learnact.persistence`)."""

import torch
from sklearn.utils.validation import check_is_fitted
from skorch.history import History

from ._base import _GLOBAL_RNG_LOCK, LearnedActivationEstimator

__all__ = ["network_state", "restore_network"]


def network_state(estimator: LearnedActivationEstimator) -> dict:
    """The fitted network of ``estimator`` as plain values, tensors and modules.

    Everything :func:`restore_network` needs to rebuild ``net_`` from the
    estimator's parameters: the sizes it was built with, the ``state_dict``
    of the torch module and of the optimiser, the training history, and the
    activation modules that :meth:`~LearnedActivationEstimator.replace_activations`
    put in (e.g. compressed splines), which the parameters do not describe.

    Parameters
    ----------
    estimator : LearnedActivationEstimator
        Fitted.

    Returns
    -------
    state : dict
        ``n_features``, ``n_outputs``, ``batch_size``, ``device`` (``"cpu"`` or
        ``"cuda"``), ``replaced`` (layer index -> module), ``module`` and
        ``optimizer`` (state dicts of CPU tensors), ``history`` (skorch's rows)
        and ``initial_loss``.
    """
    check_is_fitted(estimator)
    net = estimator.net_
    module = net.module_
    replaced = sorted(getattr(estimator, "replaced_activations_", {}))
    optimizer = net.optimizer_.state_dict()
    optimizer["state"] = {
        key: {
            name: value.detach().cpu() if torch.is_tensor(value) else value
            for name, value in values.items()
        }
        for key, values in optimizer["state"].items()
    }
    return {
        "n_features": int(estimator.n_features_in_),
        "n_outputs": int(estimator.n_outputs_),
        "batch_size": int(net.batch_size),
        "device": estimator.device_.type,
        "replaced": {i: module.activations[i] for i in replaced},
        "module": {k: v.detach().cpu() for k, v in module.state_dict().items()},
        "optimizer": optimizer,
        "history": [dict(row) for row in net.history],
        "initial_loss": getattr(net, "initial_loss_", None),
    }


def restore_network(estimator: LearnedActivationEstimator, state: dict) -> None:
    """Rebuild ``estimator.net_`` from its parameters and :func:`network_state`.

    The network is built as ``fit`` builds it (from the estimator's checked
    parameters: a registered activation name, its options), the replaced
    activation modules are put back, then the saved tensors are loaded with
    ``load_state_dict(strict=True)``: a tensor of the wrong name or shape is
    an error, never silently ignored. A model saved on CUDA is rebuilt on the
    CPU where CUDA is not available. The global torch random state is left as
    it was.

    Parameters
    ----------
    estimator : LearnedActivationEstimator
        With its parameters and fitted attributes, but without ``net_``.
    state : dict
        From :func:`network_state`.
    """
    estimator._check_params()
    device = torch.device(state["device"])
    if device.type == "cuda" and not torch.cuda.is_available():
        device = torch.device("cpu")
    net = estimator._new_net(
        int(state["n_features"]),
        int(state["n_outputs"]),
        int(state["batch_size"]),
        device,
        estimator.cycle_plan(),
    )
    with (
        _GLOBAL_RNG_LOCK,
        torch.random.fork_rng(
            devices=[device.index or 0] if device.type == "cuda" else []
        ),
    ):
        net.initialize()
    activations = net.module_.activations
    for index, module in state["replaced"].items():
        activations[int(index)] = module.to(device)
    if state["replaced"]:
        net.initialize_optimizer()  # without the replaced modules' parameters
    net.module_.load_state_dict(state["module"], strict=True)
    net.optimizer_.load_state_dict(state["optimizer"])
    net.history = History(state["history"])
    net.initial_loss_ = state["initial_loss"]
    estimator.net_ = net
