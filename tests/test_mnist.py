"""Real data: the classifier on MNIST (../shared/data/mnist), seed 001's net."""

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_learnact import LearnedActivationClassifier


@pytest.mark.slow
def test_mnist_relu_reaches_97_percent(mnist):
    X_train, y_train, X_test, y_test = mnist
    assert X_train.shape == (60000, 784) and X_test.shape == (10000, 784)
    assert np.bincount(y_train)[1] == 6742  # the canonical files
    clf = LearnedActivationClassifier(
        hidden_layer_sizes=(128, 64),
        activation="relu",
        batch_size=128,
        max_iter=5,
        random_state=0,
        device="cpu",
    )
    with pytest.warns(ConvergenceWarning):  # 5 epochs is deliberate
        clf.fit(X_train, y_train)
    accuracy = clf.score(X_test, y_test)
    print(f"MNIST 784-128-64-10 relu, 5 epochs: test accuracy {accuracy:.4f}")
    assert accuracy >= 0.97
