"""Optuna studies: kept so that ``sklearn_learnact.search.optuna`` imports keep
working; the code lives in :mod:`sklearn_learnact.studies`."""

from ..studies import (
    DEFINITION_ATTR,
    StorageRecoveredWarning,
    StorageUnavailableError,
    StudyMismatchError,
    bind_study,
    default_search_space,
    definition_fingerprint,
    import_optuna,
    json_params,
    open_storage,
    recover_journal,
    study_definition,
    study_summary,
    tune_activation,
)

__all__ = [
    "DEFINITION_ATTR",
    "StorageRecoveredWarning",
    "StorageUnavailableError",
    "StudyMismatchError",
    "bind_study",
    "default_search_space",
    "definition_fingerprint",
    "import_optuna",
    "json_params",
    "open_storage",
    "recover_journal",
    "study_definition",
    "study_summary",
    "tune_activation",
]
