"""benchmarks/gpu_check.py, the GPU check of a lent GPU, kept working on the
CPU: its dry run (every step, CPU device, tiny sizes) passes in a real
process; a spent time budget skips steps and still writes the results; a
failing step is recorded and the next one runs."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sklearn_learnact.activations import available_activations

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check.py"
STEPS = ["environment", "gpu tests", "training", "inference", "cpu pickle", "results"]


@pytest.fixture(scope="module")
def gpu_check():
    """The script as a module (it lives beside the benchmarks, not in the
    package)."""
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _results(folder: Path) -> tuple[dict, dict]:
    results = json.loads((folder / "gpu_check.json").read_text(encoding="utf-8"))
    return results, {step["name"]: step for step in results["steps"]}


def test_dry_run_runs_every_step_on_the_cpu(tmp_path):
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--dry-run", "--out", str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    results, steps = _results(tmp_path)
    assert (results["mode"], results["device"]) == ("dry-run", "cpu")
    assert list(steps) == STEPS
    statuses = {name: step["status"] for name, step in steps.items()}
    assert set(statuses.values()) <= {"passed", "failed", "skipped"}
    failed = {n: s.get("error") for n, s in steps.items() if s["status"] == "failed"}
    assert not failed
    assert set(statuses.values()) == {"passed"}, statuses  # nothing out of time
    kinds = available_activations("learnable")
    # every learnable kind of the registry trained, timed against relu
    for rows in steps["training"]["result"]["per_batch"].values():
        assert set(rows) == {"hand loop", "hand loop + loss.item()", "relu", *kinds}
        assert all(row["seconds"] > 0 for row in rows.values())
    for rows in steps["inference"]["result"]["per_batch"].values():
        assert {"identity", "relu", *kinds, "mlp compressed"} <= set(rows)
    assert {t["step"] for t in results["targets"]} == {"training", "inference"}
    assert len(results["targets"]) == 2 * (1 + len(kinds)) + 1 + len(kinds)
    models = steps["cpu pickle"]["result"]["models"]
    assert set(models) == {"relu", *kinds, "mlp compressed", "mlp compressor"}
    assert {m["device"] for m in models.values()} == {"cpu"}
    summary = (tmp_path / "gpu_check.md").read_text(encoding="utf-8")
    assert all(f"| {name} | passed |" in summary for name in STEPS)
    assert summary in proc.stdout


def test_a_spent_budget_skips_steps_and_still_writes_results(tmp_path, gpu_check):
    assert gpu_check.main(["--dry-run", "--out", str(tmp_path), "--budget", "0"]) == 0
    _, steps = _results(tmp_path)
    assert list(steps) == STEPS
    for name in STEPS[:-1]:
        assert steps[name]["status"] == "skipped"
        assert steps[name]["error"].startswith("time budget")
    assert steps["results"]["status"] == "passed"


def test_a_failing_step_is_recorded_and_the_next_one_runs(
    tmp_path, gpu_check, monkeypatch
):
    def broken(ctx):
        raise RuntimeError("no luck")

    monkeypatch.setitem(gpu_check.STEPS, "environment", (broken, 30.0, 1.0))
    fine = (lambda ctx: ({"rows": 1}, "fine"), 30.0, 1.0)
    monkeypatch.setitem(gpu_check.STEPS, "training", fine)
    argv = ["--dry-run", "--out", str(tmp_path), "--steps", "environment,training"]
    assert gpu_check.main(argv) == 1
    _, steps = _results(tmp_path)
    assert list(steps) == ["environment", "training", "results"]
    assert steps["environment"]["status"] == "failed"
    assert steps["environment"]["error"] == "RuntimeError: no luck"
    assert "no luck" in steps["environment"]["traceback"][-1]
    assert steps["training"]["status"] == "passed"
    assert steps["training"]["result"] == {"rows": 1}
