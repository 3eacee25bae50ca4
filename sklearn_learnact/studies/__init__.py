"""Optuna studies per activation: equal budgets, pruning, resumable storage.

Optuna is optional (``pip install "sklearn-learnact[optuna]"``); it is imported
only when a study is run.

Storage
-------
``storage`` is ``None`` (in memory: nothing survives the process), a file path
(an Optuna journal file, the default of ``learnact compare``: no server, safe
for several processes on one machine) or any Optuna storage URL, e.g.
``sqlite:///studies.db`` or, for workers on several machines,
``postgresql://user:password@host/db`` (``pip install
"sklearn-learnact[postgres]"``, create the database once, then start the same
command on every machine; a plain ``postgresql://`` URL uses the driver that is
installed, psycopg2 from the extra or psycopg 3).
:func:`open_storage` makes each of them robust: a journal path is made
absolute, a lock left by a killed run is cleared, an incomplete last record
(a kill or a full disk mid-write) is dropped with a warning saying how many
records were kept (a journal damaged in its middle is first copied to
``NAME.damaged``, ``NAME.damaged.1``...: a backup never replaces an earlier one),
and an existing file that is not a journal (a CSV file given by mistake) is
refused and left untouched; an SQL schema is created once however many workers start
together, and a lost connection (a database restart) is retried for a bounded
time, then :class:`StorageUnavailableError` says so.

Studies
-------
A study is bound to what defines its scores (:func:`study_definition`: the
data, the target, the cross-validation splits, the estimator's parameters, the
search space and the scorer), recorded in the study. By default
(``study_name=None``) each activation's study is named
``learnact.<activation>.<fingerprint of the definition>``: the same comparison
run again resumes its studies, a different one (other data, folds, network...)
gets its own, even in the same file or database. A study named explicitly is
resumed only by the comparison that created it; any other stops with a
:class:`StudyMismatchError` that says what differs (:func:`bind_study`).

A stored study runs only the trials it still lacks, so a killed run resumes
where it stopped: finished trials are kept, and only the trial that was running
when it was killed is lost (it stays ``RUNNING`` in the storage and does not
count). Several workers on one study share its budget: a trial counts once
started (unless its process died on the same host), and a worker that starts
one beyond the budget marks it over the budget (pruned before training,
counted nowhere) and stops, so the study ends with ``n_trials`` trials
whatever the number of workers. A trial left running by a machine that is
gone counts until a worker on that host starts again. :func:`study_summary`
reads a study's result back from the storage (``learnact report DIR`` writes
a report from it). With a fixed ``random_state`` the sampler's randomness for
trial *n* is seeded by ``(random_state, n)``: one worker gives the same trials
and results in any process (and a resumed study continues as an uninterrupted
one would); several workers never repeat each other's random configurations,
but which trials they run depends on timing.
"""

from ._definition import DEFINITION_ATTR, definition_fingerprint, study_definition
from ._errors import (
    StorageRecoveredWarning,
    StorageUnavailableError,
    StudyMismatchError,
)
from ._recovery import is_journal, recover_journal
from ._space import default_search_space
from ._storage import import_optuna, open_storage
from ._study import OVER_BUDGET_ATTR, bind_study, json_params, study_summary
from ._tuning import process_alive, tune_activation

__all__ = [
    "DEFINITION_ATTR",
    "OVER_BUDGET_ATTR",
    "StorageRecoveredWarning",
    "StorageUnavailableError",
    "StudyMismatchError",
    "bind_study",
    "default_search_space",
    "definition_fingerprint",
    "import_optuna",
    "json_params",
    "open_storage",
    "is_journal",
    "recover_journal",
    "study_definition",
    "study_summary",
    "process_alive",
    "tune_activation",
]
