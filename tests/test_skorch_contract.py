"""skorch's contract: every callback hook fires, with real skorch callbacks.

The estimators train through a lean skorch loop (tensor slices, fused Adam);
these tests check that it still honours what skorch promises its users.
"""

import pickle
import threading
import warnings

import numpy as np
import pytest
import torch
from skorch.callbacks import (
    Callback,
    Checkpoint,
    EarlyStopping,
    EpochScoring,
    GradientNormClipping,
    LoadInitState,
    LRScheduler,
)

from sklearn_learnact import LearnedActivationClassifier, LearnedActivationRegressor

FAST = {"hidden_layer_sizes": (16,), "random_state": 0, "n_iter_no_change": 100}


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of short fits
        yield


class Hooks(Callback):
    """Counts every hook skorch fires."""

    def initialize(self):
        self.calls = {}
        return self

    def _count(self, name):
        self.calls[name] = self.calls.get(name, 0) + 1

    def on_train_begin(self, net, **kwargs):
        self._count("on_train_begin")

    def on_train_end(self, net, **kwargs):
        self._count("on_train_end")

    def on_epoch_begin(self, net, **kwargs):
        self._count("on_epoch_begin")

    def on_epoch_end(self, net, **kwargs):
        self._count("on_epoch_end")

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        self._count(f"on_batch_begin_{'train' if training else 'valid'}")
        X, y = batch  # skorch's batch: (X, y)
        assert len(y) > 0

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        self._count(f"on_batch_end_{'train' if training else 'valid'}")

    def on_grad_computed(self, net, named_parameters, batch=None, **kwargs):
        self._count("on_grad_computed")
        assert all(p.grad is not None for _, p in named_parameters)


def test_every_hook_fires_as_in_skorch(tiny_classification):
    X, y = tiny_classification  # 120 rows
    hooks = Hooks()
    clf = LearnedActivationClassifier(
        max_iter=3, batch_size=50, early_stopping=True, validation_fraction=0.25,
        **FAST,
    )  # fmt: skip
    clf.fit(X, y, callbacks=[("hooks", hooks)])
    # 90 training rows in batches of 50: 2 batches; 30 validation rows: 1 batch
    assert hooks.calls == {
        "on_train_begin": 1,
        "on_train_end": 1,
        "on_epoch_begin": 3,
        "on_epoch_end": 3,
        "on_batch_begin_train": 6,
        "on_batch_end_train": 6,
        "on_grad_computed": 6,
        "on_batch_begin_valid": 3,
        "on_batch_end_valid": 3,
    }


def test_gradient_norm_clipping_clips(tiny_regression):
    X, y = tiny_regression

    class Norms(Callback):  # runs after the clipping callback
        def initialize(self):
            self.norms = []
            return self

        def on_grad_computed(self, net, named_parameters, **kwargs):
            grads = [p.grad.norm() for _, p in named_parameters]
            self.norms.append(float(torch.linalg.vector_norm(torch.stack(grads))))

    reg = LearnedActivationRegressor(max_iter=3, learning_rate_init=0.1, **FAST)
    free = Norms()
    reg.fit(X * 30, y, callbacks=[("norms", free)])
    assert max(free.norms) > 0.5  # large gradients without clipping
    clipped = Norms()
    reg.fit(
        X * 30,
        y,
        callbacks=[("clip", GradientNormClipping(0.5)), ("norms", clipped)],
    )
    assert len(clipped.norms) == len(free.norms)
    assert max(clipped.norms) <= 0.5 + 1e-5


def test_lr_scheduler_changes_the_learning_rate(tiny_classification):
    X, y = tiny_classification
    clf = LearnedActivationClassifier(max_iter=3, learning_rate_init=0.1, **FAST)
    scheduler = LRScheduler(
        policy=torch.optim.lr_scheduler.StepLR, step_size=1, gamma=0.5
    )
    clf.fit(X, y, callbacks=[("lr", scheduler)])
    lrs = [group["lr"] for group in clf.net_.optimizer_.param_groups]
    assert lrs == [pytest.approx(0.1 * 0.5**3)] * len(lrs)


def test_epoch_scoring_records_its_score(tiny_classification):
    X, y = tiny_classification

    def accuracy(net, X, y):  # skorch passes the net, the dataset and y
        logits = net.predict(X)
        return float((logits.argmax(1) == np.asarray(y)).mean())

    clf = LearnedActivationClassifier(
        max_iter=3, early_stopping=True, validation_fraction=0.25, **FAST
    )
    scoring = EpochScoring(accuracy, lower_is_better=False, name="my_acc")
    clf.fit(X, y, callbacks=[("score", scoring)])
    scores = clf.net_.history[:, "my_acc"]
    # the same validation accuracy as the estimator's own score
    np.testing.assert_allclose(scores, clf.net_.history[:, "valid_score"])


def test_checkpoint_and_load_init_state(tiny_classification, tmp_path):
    X, y = tiny_classification
    checkpoint = Checkpoint(monitor="train_loss_best", dirname=str(tmp_path))
    first = LearnedActivationClassifier(max_iter=8, learning_rate_init=0.05, **FAST)
    first.fit(X, y, callbacks=[("checkpoint", checkpoint)])
    assert (tmp_path / "params.pt").is_file()
    start = first.net_.history[0, "train_loss"]
    best = min(first.net_.history[:, "train_loss"])
    # a new fit that starts from the checkpoint: its first epoch starts near
    # where the first fit ended, not from scratch
    second = LearnedActivationClassifier(max_iter=1, learning_rate_init=0.05, **FAST)
    second.fit(X, y, callbacks=[("load", LoadInitState(checkpoint))])
    # skorch restores the weights and the history: one more epoch after 8
    assert second.n_iter_ == 9
    resumed = second.net_.history[-1, "train_loss"]
    assert resumed < start - 0.5 * (start - best)


def test_users_early_stopping_stops(tiny_classification):
    X, y = tiny_classification
    clf = LearnedActivationClassifier(max_iter=50, **FAST)
    stop = EarlyStopping(monitor="train_loss", patience=1, threshold=10.0)
    clf.fit(X, y, callbacks=[("stop", stop)])
    assert clf.n_iter_ == 2  # no epoch improves by 10: stop after patience 1


def test_on_batch_begin_counter_and_fit_callbacks_are_not_kept(tiny_classification):
    X, y = tiny_classification

    class Counter(Callback):
        def initialize(self):
            self.batches = 0
            self.lock = threading.Lock()  # unpicklable: must not reach the model
            return self

        def on_batch_begin(self, net, **kwargs):
            self.batches += 1

    counter = Counter()
    clf = LearnedActivationClassifier(max_iter=4, batch_size=32, **FAST)
    clf.fit(X, y, callbacks=[counter])  # a bare callback, named by its class
    assert counter.batches == 4 * 4  # 120 rows in batches of 32, 4 epochs
    assert "Counter" not in dict(clf.net_.callbacks_)
    restored = pickle.loads(pickle.dumps(clf))  # the lock is not in the model
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))


def test_a_cuda_trained_model_predicts_where_there_is_no_cuda(tiny_classification):
    # skorch moves a net saved on CUDA to the CPU when it is unpickled where
    # there is none; device_ and predict must follow the module, not a copy of
    # the training device. Simulated on the CPU: the net says it was on CUDA.
    X, y = tiny_classification
    clf = LearnedActivationClassifier(max_iter=2, device="cpu", **FAST).fit(X, y)
    expected = clf.predict_proba(X)
    clf.net_.device = "cuda"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skorch: "no CUDA, loading on the CPU"
        restored = pickle.loads(pickle.dumps(clf))
    if torch.cuda.is_available():  # pragma: no cover - on a GPU machine
        assert restored.device_.type == "cuda"
    else:
        assert str(restored.net_.device) == "cpu" and restored.device_.type == "cpu"
    np.testing.assert_allclose(restored.predict_proba(X), expected, rtol=1e-6)
