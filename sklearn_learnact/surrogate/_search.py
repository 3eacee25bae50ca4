"""The search loop: evaluate the baselines, then the candidates the surrogate
predicts best; results, retesting and the refitted best estimator."""

import numbers
import time
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from joblib import delayed
from joblib import hash as joblib_hash
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.metrics import check_scoring
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .._validation import (
    CV,
    N_JOBS,
    RANDOM_STATE,
    VERBOSE,
    Boolean,
    InstanceOf,
    Interval,
    Options,
    Satisfies,
    validate_params,
)
from ..activations.expression import canonical_expression
from ..compare import corrected_ttest
from ..estimators import learnact_step, wrapped_estimator_tags
from ..evaluation import cv_splits, fit_and_score, run_parallel
from ..studies import open_storage, study_definition
from ._embedding import (
    _EMBEDDINGS,
    _FEATURES,
    MIN_CANDIDATES,
    embed_candidates,
    import_umap,
)
from ._features import fisher_features, output_features
from ._space import BASELINES, ActivationSpace, build_space
from ._surrogate import CandidateDistance, failing_candidates

__all__ = ["SurrogateActivationSearch"]

#: How :func:`fit_and_score` words the failures that score as a diverged fit.
_DIVERGED = ("TrainingDivergedError", "the score is not a finite number")


def _hash(*objects) -> str:
    return joblib_hash(objects, hash_name="sha1")


def _fold_score(estimator, X, y, train, test, scorer, chance: float):
    """Fit and score one fold through :func:`~sklearn_learnact.evaluation.fit_and_score`
    (the library's one fit-and-score path): a fit that diverged, or a score that
    is not finite, scores as a constant predictor; any other failure raises."""
    result = fit_and_score(estimator, X, y, train, test, scorer, diagnose=False)
    error = result["error"]
    if error is not None and not error.startswith(_DIVERGED):
        raise RuntimeError(f"Fitting a candidate activation failed: {error}")
    diverged = error is not None
    return chance if diverged else result["score"], diverged, result["fit_time"]


def _chance_score(classifier: bool, X, y, train, test, scorer) -> float:
    """Score of a constant predictor (the prior or the mean) on the fold."""
    dummy = DummyClassifier() if classifier else DummyRegressor()
    dummy.fit(_safe_indexing(X, train), _safe_indexing(y, train))
    return float(scorer(dummy, _safe_indexing(X, test), _safe_indexing(y, test)))


def _has_best(attr: str):
    def check(self):
        check_is_fitted(self, "best_estimator_")
        return hasattr(self.best_estimator_, attr)

    return check


def _expressions(value) -> bool:
    return not isinstance(value, str) and all(isinstance(e, str) for e in value)


class SurrogateActivationSearch(MetaEstimatorMixin, BaseEstimator):
    """Find good activation functions for your data by a surrogate.

    Evaluates ``n_iter`` candidate activations, each the cross-validated
    score of ``estimator`` with ``activation="expr"``: first the baselines,
    then repeatedly the candidate whose score a 3-nearest-neighbour
    regression on a 2-D embedding of the candidates predicts highest. The
    embedding is a UMAP of a distance between candidates built from features
    computed without training: each function's outputs on fixed points, and
    the spectrum of the K-FAC Fisher information of ``estimator``'s network
    at initialisation on a batch of your data. Candidates that fail at
    initialisation (a Fisher spectrum that is not finite, outputs above 100 in
    magnitude on [-5, 5]) are removed before any training. See
    :mod:`sklearn_learnact.surrogate` for the method.

    Parameters
    ----------
    estimator : LearnedActivationClassifier, LearnedActivationRegressor or Pipeline
        The network every candidate is trained in (a pipeline ending in one
        works too); its ``activation`` and ``activation_params`` are replaced.
    n_iter : int, default=40
        Number of candidates to evaluate (the baselines included). A stored
        study that already holds more evaluations is not extended, and
        ``results_`` shows all of them.
    cv : int or cross-validation splitter, default=3
        An int builds a shuffled (stratified for classifiers) K-fold seeded
        by ``random_state``. Every candidate is scored on the same splits.
    scoring : str or callable, optional
        A scikit-learn scorer; None uses the estimator's ``score``.
    space : ActivationSpace, sequence of str or None, default=None
        The candidates: None is the default space (:func:`build_space`, about
        2,600 functions), a sequence of expressions is used as given (with
        the baselines added).
    baselines : sequence of str, default=BASELINES
        Evaluated first, in order; they are added to the space.
    features : {"both", "outputs", "fisher"}, default="both"
        The features the embedding is built from.
    embedding : {"umap", "union"}, default="umap"
        ``"umap"``: a 2-D UMAP of the distance between candidates (with both
        features: the output Euclidean distance over its median plus the
        Fisher Manhattan distance over its median,
        :class:`~sklearn_learnact.surrogate.CandidateDistance`).
        ``"union"``: the paper's union of a UMAP of each feature, kept for
        comparison: in the benchmark it found fewer of the best candidates
        (see :func:`~sklearn_learnact.surrogate.embed_candidates`).
    filter_failures : bool, default=True
        Remove, before any training, the candidates whose Fisher spectrum is
        not finite or whose outputs exceed 100 in magnitude on [-5, 5]
        (:func:`~sklearn_learnact.surrogate.failing_candidates`); the
        baselines are always kept.
    n_neighbors : int, default=3
        Neighbours of the surrogate's regression.
    fisher_batch_size : int, default=256
        Rows of X for the Fisher feature.
    storage : str, path-like, optuna storage or None, default=None
        Where the evaluations are kept: None (in memory), a journal-file path
        or an Optuna storage URL (see
        :func:`sklearn_learnact.studies.open_storage`). With a storage
        the search resumes after an interruption and several workers can
        share it; each stops when the study holds ``n_iter`` evaluations.
    study_name : str, optional
        None names the study from a hash of what defines the search (data,
        splits, scoring, estimator, space, settings), so that another search
        never resumes it; a given name whose stored definition differs is an
        error.
    refit : bool, default=True
        Refit ``estimator`` with the best activation on all of X, y.
    n_jobs : int, optional
        Folds fitted in parallel (joblib; on a Dask cluster inside
        ``joblib.parallel_config(backend="dask")``, see
        :func:`~sklearn_learnact.evaluation.run_parallel`).
    random_state : int, RandomState instance or None, default=None
        Seeds the splits, the Fisher batch and initialisation, the UMAP
        embedding and the tie-breaking: searches with different seeds differ.
        Give an int to resume a stored search (the study is bound to the
        splits).
    verbose : int, default=0
        1 prints one line per evaluation.

    Attributes
    ----------
    results_ : pandas.DataFrame
        One row per evaluated function, best first: ``expression``, ``rank``,
        ``cv_score`` (mean over folds), ``std_score``, ``predicted_score``
        (the surrogate's prediction when it was chosen; NaN for the
        baselines), ``baseline``, ``order`` (0-based evaluation order),
        ``n_diverged`` (folds whose training diverged or whose score is not
        finite; they score as a constant predictor), ``fit_time`` (seconds
        per fold), and, when
        ``"relu(x)"`` was evaluated, ``diff_vs_relu`` and ``p_value_vs_relu``
        (corrected paired t-test on the folds, see
        :func:`~sklearn_learnact.compare.corrected_ttest`; optimistic for the
        best, which was chosen on the same folds: :meth:`confirm` retests on
        new folds).
    fold_scores_ : pandas.DataFrame
        Expressions x folds.
    best_activation_ : str
        Expression with the best ``cv_score``.
    best_score_ : float
    best_estimator_ : estimator
        ``estimator`` with the best activation, refitted on X, y (``refit``).
    space_ : ActivationSpace
    removed_ : tuple of str
        The candidates the failure filter removed (never trained).
    filter_counts_ : dict
        How many candidates each criterion of the filter flags
        (``"non-finite Fisher spectrum"``, ``"output above 100"``) and how many
        it removed (``"removed"``); zeros with ``filter_failures=False``.
    embedding_ : ndarray of shape (n_candidates, 2)
        The UMAP embedding; NaN for the removed candidates.
    splits_ : list of (train, test) index arrays
    feature_times_ : dict
        Seconds spent on ``"space"``, ``"outputs"``, ``"fisher"`` and
        ``"embedding"`` (the filter and the UMAP); zeros when a resumed study
        had them stored.
    study_name_ : str
    n_features_in_ : int

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_learnact import LearnedActivationClassifier
    >>> from sklearn_learnact.surrogate import SurrogateActivationSearch
    >>> X, y = load_iris(return_X_y=True)
    >>> search = SurrogateActivationSearch(
    ...     LearnedActivationClassifier((8,), max_iter=20, learning_rate_init=0.01),
    ...     n_iter=10, space=["x * tanh(x)", "max(x, sin(x))", "abs(x)"],
    ...     random_state=0,
    ... ).fit(X, y)  # doctest: +SKIP
    >>> search.results_.columns[:4].tolist()  # doctest: +SKIP
    ['expression', 'rank', 'cv_score', 'std_score']
    """

    def __init__(
        self,
        estimator,
        *,
        n_iter: int = 40,
        cv=3,
        scoring=None,
        space=None,
        baselines: Sequence[str] = BASELINES,
        features: str = "both",
        embedding: str = "umap",
        filter_failures: bool = True,
        n_neighbors: int = 3,
        fisher_batch_size: int = 256,
        storage=None,
        study_name: str | None = None,
        refit: bool = True,
        n_jobs: int | None = None,
        random_state=None,
        verbose: int = 0,
    ):
        self.estimator = estimator
        self.n_iter = n_iter
        self.cv = cv
        self.scoring = scoring
        self.space = space
        self.baselines = baselines
        self.features = features
        self.embedding = embedding
        self.filter_failures = filter_failures
        self.n_neighbors = n_neighbors
        self.fisher_batch_size = fisher_batch_size
        self.storage = storage
        self.study_name = study_name
        self.refit = refit
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        return wrapped_estimator_tags(super().__sklearn_tags__(), self.estimator)

    # ------------------------------------------------------------- checks
    _parameter_constraints: dict = {
        "n_iter": [Interval(numbers.Integral, 1, None)],
        "cv": CV,
        "scoring": [None, InstanceOf(str), Satisfies(callable, "a scorer callable")],
        "space": [
            None,
            InstanceOf(ActivationSpace),
            Satisfies(_expressions, "a sequence of expression strings"),
        ],
        "baselines": [
            Satisfies(
                _expressions, "a sequence of expressions, e.g. ('relu(x)', 'tanh(x)')"
            )
        ],
        "features": [Options(*_FEATURES)],
        "embedding": [Options(*_EMBEDDINGS)],
        "filter_failures": [Boolean()],
        "n_neighbors": [Interval(numbers.Integral, 1, None)],
        "fisher_batch_size": [Interval(numbers.Integral, 2, None)],
        "study_name": [None, InstanceOf(str)],
        "refit": [Boolean()],
        "n_jobs": N_JOBS,
        "random_state": RANDOM_STATE,
        "verbose": VERBOSE,
    }

    def _check_params(self) -> None:
        validate_params(self.get_params(deep=False), self._parameter_constraints)

    def _build_space(self) -> ActivationSpace:
        space = self.space
        if isinstance(space, ActivationSpace):
            missing = [b for b in self.baselines if b not in space.expressions]
            if not missing:
                return space
            return build_space(
                schemas=(), candidates=space.expressions, include=self.baselines
            )
        if space is None:
            return build_space(include=self.baselines)
        return build_space(schemas=(), candidates=space, include=self.baselines)

    # ---------------------------------------------------------------- fit
    def fit(self, X, y):
        """Run (or resume) the search, then refit the best activation.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : object
        """
        self._check_params()
        from . import _study as study_lib

        prefix, _ = learnact_step(self.estimator)
        storage = open_storage(self.storage)  # fails before any work
        classifier = is_classifier(self.estimator)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        start = time.perf_counter()
        space = self._build_space()
        space_time = time.perf_counter() - start
        if len(space) < MIN_CANDIDATES:
            raise ValueError(
                f"The candidate space has {len(space)} distinct functions; the "
                f"surrogate needs at least {MIN_CANDIDATES}: add candidates."
            )
        if self.n_iter > len(space):
            raise ValueError(
                f"n_iter={self.n_iter} is larger than the candidate space "
                f"({len(space)} distinct functions); lower n_iter or enlarge the "
                "space."
            )
        n_baselines = len({canonical_expression(b) for b in self.baselines})
        if self.n_iter <= n_baselines:
            warnings.warn(
                f"n_iter={self.n_iter} is at or below the {n_baselines} baselines, "
                "which are evaluated first: the surrogate never chooses a function "
                f"(baselines only). Raise n_iter above {n_baselines} for it to act.",
                UserWarning,
                stacklevel=2,
            )
        splits = cv_splits(self.cv, X, y, classifier=classifier, random_state=seed)
        scorer = check_scoring(self.estimator, self.scoring)
        base = clone(self.estimator).set_params(
            **{f"{prefix}activation": "expr", f"{prefix}activation_params": None}
        )
        definition = self._definition(X, y, base, space, splits, scorer, seed)
        study = study_lib.open_search_study(
            storage, self.study_name, definition, "learnact-surrogate"
        )
        baselines = [canonical_expression(b) for b in self.baselines]
        first = [space.expressions.index(b) for b in baselines]
        distance, allowed, embedding, times = self._surrogate(
            study, X, y, space, first, seed
        )
        n_kept = int(allowed.sum())
        if self.n_iter > n_kept:
            raise ValueError(
                f"n_iter={self.n_iter} is larger than the {n_kept} candidates the "
                f"failure filter kept (of {len(space)}); lower n_iter or enlarge "
                "the space."
            )
        sampler = study_lib.CandidateSampler(
            distance, first, seed, self.n_neighbors, allowed=allowed
        )
        study.sampler = sampler
        chance = [_chance_score(classifier, X, y, tr, te, scorer) for tr, te in splits]
        self._loop(
            study,
            study_lib,
            sampler,
            n_kept,
            space,
            base,
            prefix,
            X,
            y,
            splits,
            scorer,
            chance,
        )

        self.space_ = space
        self.embedding_ = embedding
        self.splits_ = splits
        self.feature_times_ = {"space": space_time, **times}
        self.study_name_ = study.study_name
        self._collect(study, space, splits)
        if self.refit:
            self.best_estimator_ = clone(base).set_params(
                **{f"{prefix}activation_params": {"expr": self.best_activation_}}
            )
            self.best_estimator_.fit(X, y)
            if hasattr(self.best_estimator_, "n_features_in_"):
                self.n_features_in_ = self.best_estimator_.n_features_in_
        return self

    def _definition(self, X, y, base, space, splits, scorer, seed) -> dict:
        """What defines this search: a study holds evaluations of one only.

        Made of values (digests, parameter values), never of object reprs,
        which may hold memory addresses that change per process."""
        definition = study_definition(
            base,
            X,
            y,
            splits,
            scorer=None if self.scoring is None else scorer,
            space=f"{_hash(space.expressions)} ({len(space)} candidates)",
            baselines=[canonical_expression(b) for b in self.baselines],
            surrogate={
                "features": self.features,
                "embedding": self.embedding,
                "filter_failures": self.filter_failures,
                "n_neighbors": self.n_neighbors,
                "fisher_batch_size": self.fisher_batch_size,
                "seed": seed,
            },
        )
        del definition["search space"]  # the tuning space: not this search's
        return definition

    def _surrogate(self, study, X, y, space, first, seed):
        """The distance between the candidates' embedding coordinates, the
        candidates the failure filter kept, the embedding (NaN for the others)
        and the seconds each part took. The embedding and the filter's counts
        are read from the study when stored there, else computed (features,
        filter, UMAP) and stored, so that a resumed worker skips them and every
        worker uses the same ones."""
        times = dict.fromkeys(("outputs", "fisher", "embedding"), 0.0)
        stored = study.user_attrs.get("embedding")
        counts = study.user_attrs.get("filter_counts")
        if stored is None or counts is None:
            import_umap()  # fail before the features if it is missing
            start = time.perf_counter()
            outputs = output_features(space)
            times["outputs"] = time.perf_counter() - start
            start = time.perf_counter()
            fisher, finite = fisher_features(
                self.estimator,
                X,
                y,
                space.expressions,
                batch_size=self.fisher_batch_size,
                random_state=seed,
                return_finite=True,
            )
            times["fisher"] = time.perf_counter() - start
            start = time.perf_counter()
            flags = failing_candidates(
                space.expressions, finite, outputs=outputs, keep=first
            )
            kept = ~flags["removed"] if self.filter_failures else np.ones_like(finite)
            counts = {k: int(v.sum()) * self.filter_failures for k, v in flags.items()}
            rows = np.flatnonzero(kept)
            if len(rows) < MIN_CANDIDATES:
                raise ValueError(
                    f"The failure filter kept {len(rows)} of {len(space)} "
                    f"candidates; the surrogate needs at least {MIN_CANDIDATES}: "
                    "add candidates (or set filter_failures=False)."
                )
            coordinates = np.full((len(space), 2), np.nan)
            coordinates[rows] = embed_candidates(
                outputs[rows] if self.features != "fisher" else None,
                fisher[rows] if self.features != "outputs" else None,
                features=self.features,
                embedding=self.embedding,
                random_state=seed,
            )
            coordinates = np.round(coordinates, 6)
            study.set_user_attr("filter_counts", counts)
            stored = np.where(np.isnan(coordinates), None, coordinates).tolist()
            study.set_user_attr("embedding", stored)
            times["embedding"] = time.perf_counter() - start
            stored = study.user_attrs["embedding"]  # a racing worker's
            counts = study.user_attrs["filter_counts"]
        embedding = np.array(stored, dtype=float)  # None: NaN
        kept = np.isfinite(embedding).all(axis=1)
        self.filter_counts_ = dict(counts)
        self.removed_ = tuple(np.asarray(space.expressions)[~kept].tolist())
        # the removed candidates are neither proposed nor anyone's neighbour
        distance = CandidateDistance(coordinates=np.nan_to_num(embedding))
        return distance, kept, embedding, times

    def _loop(
        self,
        study,
        lib,
        sampler,
        n_kept,
        space,
        base,
        prefix,
        X,
        y,
        splits,
        scorer,
        chance,
    ) -> None:
        worker = lib.worker_id()
        lib.fail_stale_trials(study)
        while True:
            scores, busy = lib.evaluated(study)
            if len(scores) >= self.n_iter or len(scores) + len(busy) >= n_kept:
                return
            try:
                trial = lib.next_trial(study, sampler, space.expressions, worker)
            except lib.SearchExhausted:  # other workers took the rest
                lib.fail_stale_trials(study)
                return
            earlier = lib.taken_by(study, trial)
            if earlier is not None:  # another worker picked it at the same moment
                trial.set_user_attr("skipped", f"candidate taken by trial {earlier}")
                study.tell(trial, state=lib.TrialState.FAIL)
                continue
            try:
                expr = space.expressions[trial.params["candidate"]]
                predicted = trial.user_attrs["predicted_score"]
                est = clone(base).set_params(
                    **{f"{prefix}activation_params": {"expr": expr}}
                )
                folds = run_parallel(
                    (
                        delayed(_fold_score)(est, X, y, tr, te, scorer, c)
                        for (tr, te), c in zip(splits, chance)
                    ),
                    self.n_jobs,
                )
                fold_scores, diverged, fit_times = zip(*folds)
                trial.set_user_attr("fold_scores", list(fold_scores))
                trial.set_user_attr("n_diverged", int(sum(diverged)))
                timed = [t for t in fit_times if np.isfinite(t)]  # NaN: diverged
                trial.set_user_attr("fit_time", float(np.mean(timed or [np.nan])))
            except BaseException:
                study.tell(trial, state=lib.TrialState.FAIL)
                raise
            study.tell(trial, float(np.mean(fold_scores)))
            if self.verbose:
                if trial.params["candidate"] in sampler.first:
                    why = "baseline"
                elif np.isnan(predicted):
                    why = "first pick, at random"
                else:
                    why = f"predicted {predicted:.4f}"
                print(
                    f"[{len(scores) + 1}/{self.n_iter}] {expr}: "
                    f"{np.mean(fold_scores):.4f} ({why})",
                    flush=True,
                )

    def _collect(self, study, space, splits) -> None:
        from optuna.trial import TrialState

        rows, folds, seen = [], {}, set()
        baselines = {canonical_expression(b) for b in self.baselines}
        trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        for t in sorted(trials, key=lambda t: t.number):
            expr = space.expressions[t.params["candidate"]]
            if expr in seen:
                continue
            seen.add(expr)
            scores = np.asarray(t.user_attrs["fold_scores"], float)
            folds[expr] = scores
            rows.append(
                {
                    "expression": expr,
                    "cv_score": scores.mean(),
                    "std_score": scores.std(ddof=1) if scores.size > 1 else 0.0,
                    "predicted_score": t.user_attrs.get("predicted_score", np.nan),
                    "baseline": expr in baselines,
                    "order": len(rows),
                    "n_diverged": t.user_attrs.get("n_diverged", 0),
                    "fit_time": t.user_attrs.get("fit_time", np.nan),
                }
            )
        if not rows:
            raise RuntimeError("The search finished without any evaluation.")
        table = pd.DataFrame(rows)
        if "relu(x)" in folds:
            n_train = float(np.mean([len(tr) for tr, _ in splits]))
            n_test = float(np.mean([len(te) for _, te in splits]))
            relu = folds["relu(x)"]
            table["diff_vs_relu"] = table["cv_score"] - relu.mean()
            table["p_value_vs_relu"] = [
                np.nan
                if e == "relu(x)"
                else corrected_ttest(folds[e], relu, n_train, n_test)[1]
                for e in table["expression"]
            ]
        table = table.sort_values("cv_score", ascending=False, kind="stable")
        table.insert(1, "rank", np.arange(1, len(table) + 1))
        self.results_ = table.reset_index(drop=True)
        self.fold_scores_ = pd.DataFrame(
            np.stack([folds[e] for e in self.results_["expression"]]),
            index=pd.Index(self.results_["expression"], name="expression"),
            columns=pd.Index(range(len(splits)), name="fold"),
        )
        self.best_activation_ = str(self.results_["expression"].iloc[0])
        self.best_score_ = float(self.results_["cv_score"].iloc[0])

    # ---------------------------------------------------------- retesting
    def confirm(
        self,
        X,
        y,
        expressions: Sequence[str] | None = None,
        *,
        top: int = 3,
        reference: str = "relu(x)",
        cv=None,
        random_state: int | None = None,
    ) -> pd.DataFrame:
        """Retest the best functions against ``reference`` on new folds.

        The search picks its best by the same folds it reports, which makes
        the best look better than it is. This scores ``expressions`` (default
        the ``top`` best) and ``reference`` on new cross-validation splits
        and tests each against the reference with the corrected paired
        t-test (:func:`~sklearn_learnact.compare.corrected_ttest`).

        Parameters
        ----------
        X, y : the data (typically the search's)
        expressions : sequence of str, optional
        top : int, default=3
        reference : str, default="relu(x)"
        cv : int or splitter, optional
            Default: the search's ``cv``, shuffled with a new seed.
        random_state : int, optional
            Seeds the new splits; default one different from the search's.

        Returns
        -------
        table : pandas.DataFrame
            One row per expression, the reference last: ``expression``,
            ``mean_score``, ``std_score``, ``diff_vs_reference``, ``t``,
            ``p_value`` (two-sided), ``p_value_bonferroni`` (times the number
            of functions tested), ``n_diverged``, ``fold_scores``.
        """
        check_is_fitted(self, "results_")
        prefix, _ = learnact_step(self.estimator)
        exprs = list(expressions or self.results_["expression"].head(top))
        exprs = [canonical_expression(e) for e in exprs]
        reference = canonical_expression(reference)
        exprs = [e for e in exprs if e != reference] + [reference]
        classifier = is_classifier(self.estimator)
        if random_state is None:
            random_state = int(check_random_state(self.random_state).randint(2**31 - 1))
        seed = int(np.random.SeedSequence([random_state, 1]).generate_state(1)[0] >> 1)
        splits = cv_splits(
            self.cv if cv is None else cv,
            X,
            y,
            classifier=classifier,
            random_state=seed,
        )
        scorer = check_scoring(self.estimator, self.scoring)
        chance = [_chance_score(classifier, X, y, tr, te, scorer) for tr, te in splits]
        base = clone(self.estimator).set_params(**{f"{prefix}activation": "expr"})
        results = {}
        for expr in exprs:
            est = clone(base).set_params(
                **{f"{prefix}activation_params": {"expr": expr}}
            )
            results[expr] = run_parallel(
                (
                    delayed(_fold_score)(est, X, y, tr, te, scorer, c)
                    for (tr, te), c in zip(splits, chance)
                ),
                self.n_jobs,
            )
        n_train = float(np.mean([len(tr) for tr, _ in splits]))
        n_test = float(np.mean([len(te) for _, te in splits]))
        ref = np.array([r[0] for r in results[reference]])
        rows = []
        for expr in exprs:
            scores = np.array([r[0] for r in results[expr]])
            t, p = (
                (np.nan, np.nan)
                if expr == reference
                else corrected_ttest(scores, ref, n_train, n_test)
            )
            rows.append(
                {
                    "expression": expr,
                    "mean_score": scores.mean(),
                    "std_score": scores.std(ddof=1) if scores.size > 1 else 0.0,
                    "diff_vs_reference": scores.mean() - ref.mean(),
                    "t": t,
                    "p_value": p,
                    "p_value_bonferroni": min(1.0, p * (len(exprs) - 1))
                    if expr != reference
                    else np.nan,
                    "n_diverged": int(sum(r[1] for r in results[expr])),
                    "fold_scores": scores.round(6).tolist(),
                }
            )
        return pd.DataFrame(rows)

    # --------------------------------------------------------- delegation
    @available_if(_has_best("predict"))
    def predict(self, X):
        """Predict with ``best_estimator_``."""
        return self.best_estimator_.predict(X)

    @available_if(_has_best("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities of ``best_estimator_``."""
        return self.best_estimator_.predict_proba(X)

    @available_if(_has_best("decision_function"))
    def decision_function(self, X):
        """Decision function of ``best_estimator_``."""
        return self.best_estimator_.decision_function(X)

    @available_if(_has_best("score"))
    def score(self, X, y):
        """Score of ``best_estimator_`` (its own ``score``, or ``scoring``)."""
        scorer = check_scoring(self.best_estimator_, self.scoring)
        return scorer(self.best_estimator_, X, y)

    @property
    def classes_(self) -> np.ndarray:
        """Classes of ``best_estimator_`` (classifiers)."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.classes_
