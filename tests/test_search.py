"""``sklearn_learnact.search`` keeps the imports of earlier versions working:
each name is the object of the package that now holds it."""

import importlib

import pytest

import sklearn_learnact.compare
import sklearn_learnact.evaluation
import sklearn_learnact.studies
import sklearn_learnact.surrogate

#: Each facade module, and the packages its names come from.
FACADES = {
    "sklearn_learnact.search": (
        sklearn_learnact.compare,
        sklearn_learnact.evaluation,
        sklearn_learnact.surrogate,
    ),
    "sklearn_learnact.search.compare": (sklearn_learnact.compare,),
    "sklearn_learnact.search.grids": (sklearn_learnact.compare,),
    "sklearn_learnact.search.optuna": (sklearn_learnact.studies,),
    "sklearn_learnact.search.surrogate": (sklearn_learnact.surrogate,),
}


@pytest.mark.parametrize("name", FACADES)
def test_the_search_facade_reexports_the_new_packages_objects(name):
    facade = importlib.import_module(name)
    assert facade.__all__
    for attr in facade.__all__:
        homes = [p for p in FACADES[name] if attr in p.__all__]
        assert homes, f"{name}.{attr} is public in none of its packages"
        assert getattr(facade, attr) is getattr(homes[0], attr)


def test_the_names_users_imported_are_still_there():
    from sklearn_learnact.search import (  # noqa: F401
        BARELY_MOVED,
        DEFAULT_ACTIVATIONS,
        Comparison,
        InitialActivations,
        SurrogateActivationSearch,
        activation_grid,
        activation_input_ranges,
        activation_movement,
        activation_outputs,
        compare_activations,
        corrected_ttest,
        fit_and_score,
        parse_activations,
        score_bounds,
    )
    from sklearn_learnact.search.optuna import (  # noqa: F401
        StorageRecoveredWarning,
        StorageUnavailableError,
        StudyMismatchError,
        bind_study,
        default_search_space,
        definition_fingerprint,
        import_optuna,
        open_storage,
        recover_journal,
        study_definition,
        study_summary,
        tune_activation,
    )
    from sklearn_learnact.search.surrogate import (  # noqa: F401
        BASELINES,
        DEFAULT_BINARY,
        DEFAULT_SCHEMAS,
        DEFAULT_UNARY,
        FISHER_BINS,
        ActivationSpace,
        build_space,
        embed_candidates,
        fisher_features,
        import_umap,
        output_features,
        sample_points,
    )
