"""The Optuna sampler of the tuning: TPE seeded per trial.

Imported only by :func:`~sklearn_learnact.studies.tune_activation` (it needs
Optuna, an optional dependency).
"""

import numpy as np
from optuna.samplers import BaseSampler, TPESampler


class TrialSeededSampler(BaseSampler):
    """Optuna's TPE sampler whose randomness for trial ``n`` is seeded by
    ``(seed, n)``.

    With one worker the same command samples the same configurations
    whatever the process (a seed that mixed in the process id did not), and a
    resumed study goes on as an uninterrupted one would. Trial numbers are
    unique in a study, so parallel workers never share a seed and never repeat
    each other's random configurations; what each samples still depends on
    which trials have finished when it samples, which timing decides.

    Parameters
    ----------
    seed : int
        Mixed with each trial's number (:class:`numpy.random.SeedSequence`).
    """

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._samplers: dict[int, TPESampler] = {}

    def _sampler(self, trial) -> TPESampler:
        sampler = self._samplers.get(trial.number)
        if sampler is None:
            entropy = np.random.SeedSequence([self.seed, trial.number])
            sampler = TPESampler(seed=int(entropy.generate_state(1)[0]))
            self._samplers[trial.number] = sampler
        return sampler

    def infer_relative_search_space(self, study, trial):
        return self._sampler(trial).infer_relative_search_space(study, trial)

    def sample_relative(self, study, trial, search_space):
        return self._sampler(trial).sample_relative(study, trial, search_space)

    def sample_independent(self, study, trial, param_name, param_distribution):
        return self._sampler(trial).sample_independent(
            study, trial, param_name, param_distribution
        )

    def before_trial(self, study, trial) -> None:
        self._sampler(trial).before_trial(study, trial)

    def after_trial(self, study, trial, state, values) -> None:
        self._sampler(trial).after_trial(study, trial, state, values)
        self._samplers.pop(trial.number, None)

    def reseed_rng(self) -> None:
        """Nothing to reseed: each trial's sampler is seeded from its number."""
