"""The learnact command: compare, demo wiring, and its clear errors."""

import pandas as pd
import pytest

from sklearn_learnact.cli import DATASETS, load_dataset, main

FAST = ["--cv", "2", "--max-iter", "3", "--hidden", "8", "--no-progress"]


@pytest.fixture
def csv(tmp_path):
    path = tmp_path / "data.csv"
    frame = pd.DataFrame(
        {
            "x1": range(60),
            "x2": [i % 7 for i in range(60)],
            "color": ["red", "blue", "green"] * 20,
            "label": ["yes", "no"] * 30,
            "value": [i * 0.5 for i in range(60)],
        }
    )
    frame.to_csv(path, index=False)
    return path


def _error(capsys, argv) -> str:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    return capsys.readouterr().err


def test_compare_on_a_csv_writes_the_report(csv, tmp_path):
    out = tmp_path / "out"
    argv = [
        "compare",
        "--dataset",
        str(csv),
        "--target",
        "value",
        "--activations",
        "relu,affine",
        "--out",
        str(out),
        *FAST,
    ]
    assert main(argv) == 0
    results = pd.read_csv(out / "results.csv")
    assert sorted(results["activation"]) == ["affine", "relu"]
    assert "data" in (out / "report.md").read_text()
    assert (out / "figures" / "data_scores.png").stat().st_size > 0


def test_compare_optuna_uses_a_journal_in_the_output_folder(csv, tmp_path):
    out = tmp_path / "out"
    argv = [
        "compare",
        "--dataset",
        str(csv),
        "--target",
        "label",
        "--activations",
        "relu",
        "--search",
        "optuna",
        "--trials",
        "2",
        "--out",
        str(out),
        *FAST,
    ]
    assert main(argv) == 0
    assert (out / "optuna.journal").is_file()
    assert pd.read_csv(out / "results.csv")["n_trials_complete"].sum() >= 1


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--dataset", "nope"], "Unknown dataset 'nope'"),
        (
            ["--dataset", "titanic", "--activations", "relu,swishy"],
            "Unknown activation 'swishy'",
        ),
        (["--dataset", "{csv}"], "--target COLUMN is required"),
        (
            ["--dataset", "{csv}", "--target", "price"],
            "Column 'price' is not in data.csv; its columns are: x1, x2",
        ),
        (
            ["--dataset", "{csv}", "--target", "label", "--task", "regression"],
            "Target column 'label' is not numeric",
        ),
        (["--dataset", "missing.csv", "--target", "y"], "not found"),
        (
            [
                "--dataset",
                "{csv}",
                "--target",
                "value",
                "--search",
                "optuna",
                "--storage",
                "nodb://host/db",
            ],
            "Cannot open the Optuna storage",
        ),
    ],
)
def test_clear_errors(capsys, csv, tmp_path, argv, message):
    argv = [a.replace("{csv}", str(csv)) for a in argv]
    err = _error(capsys, ["compare", *argv, "--out", str(tmp_path / "o"), *FAST])
    assert message in err


def test_unwritable_output_folder_fails_before_training(capsys, csv, tmp_path):
    out = csv / "out"  # below a file: cannot be created, even by root
    err = _error(capsys, ["compare", "--dataset", "nope", "--out", str(out)])
    assert "Cannot write to the output folder" in err
    err = _error(capsys, ["demo", "--out", str(out)])
    assert "Cannot write to the output folder" in err


def test_builtin_datasets_load():
    assert DATASETS[:2] == ("titanic", "synthetic")
    data = load_dataset("synthetic", n_samples=100)
    assert data.task == "regression" and data.X.shape == (100, 10)
    assert load_dataset("titanic").task == "classification"


def test_python_m_entry_point_shows_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "compare" in capsys.readouterr().out
