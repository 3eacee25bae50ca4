"""``learnact export``: a joblib-saved model to ONNX, verified on a CSV sample."""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import is_classifier

from ._common import UsageError

#: Above this relative error (see ``verify_onnx``) the export counts as wrong.
_MAX_REL_ERROR = 1e-4


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``export`` subcommand to ``subparsers``."""
    export = subparsers.add_parser(
        "export",
        description="Convert a fitted estimator or Pipeline saved with joblib.dump "
        "to ONNX, run it in onnxruntime on every row of the sample and print how "
        "well it agrees with the model. The sample's columns define the ONNX "
        "inputs: the model's feature_names_in_ when it has them (one input per "
        "column: numbers as float32, text and the --text columns as strings, "
        "empty text cells as empty strings), else every column but --target as "
        "one float32 matrix.",
    )
    export.add_argument("model", help="the model file (joblib.dump of a fitted model)")
    export.add_argument("--out", required=True, help="the ONNX file to write")
    export.add_argument("--sample", required=True, help="CSV file of input rows")
    export.add_argument("--target", help="a column of the sample to leave out")
    export.add_argument(
        "--text",
        default="",
        metavar="COLUMNS",
        help="comma-separated columns to read as text even when they hold numbers "
        "(categories coded as integers that the model was fitted on as strings)",
    )
    export.add_argument(
        "--spline-form",
        default="auto",
        metavar="FORM",
        help="how compressed splines are written, one of "
        "sklearn_learnact.export.SPLINE_FORMS (default: auto, the fastest per spline)",
    )
    export.add_argument(
        "--no-zipmap",
        action="store_true",
        help="classifiers: a probabilities tensor instead of a list of dicts",
    )
    export.set_defaults(run=run)
    return export


def _load_model(path: Path):
    import joblib

    if not path.is_file():
        raise UsageError(f"Model file {str(path)!r} not found.")
    try:
        model = joblib.load(path)
    except Exception as exc:  # pickle raises many kinds
        raise UsageError(
            f"Cannot load {str(path)!r} with joblib ({type(exc).__name__}: {exc}); "
            "save the fitted model with joblib.dump(model, path)."
        ) from exc
    if not hasattr(model, "predict"):
        raise UsageError(
            f"{str(path)!r} holds a {type(model).__name__}, not a fitted estimator."
        )
    return model


def _sample(path: Path, model, target: str | None, text: list[str]):
    """The rows of the CSV ``path`` as the model's input (DataFrame or float32)."""
    if not path.is_file():
        raise UsageError(f"CSV file {str(path)!r} not found.")
    frame = pd.read_csv(path, dtype=dict.fromkeys(text, str))
    unknown = [c for c in text if c not in frame.columns]
    if unknown:
        raise UsageError(f"--text column(s) {unknown} are not in {path.name}.")
    if target is not None:
        if target not in frame.columns:
            raise UsageError(f"--target column {target!r} is not in {path.name}.")
        frame = frame.drop(columns=[target])
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        text = [str(c) for c, dt in frame.dtypes.items() if not _is_number(dt)]
        if text:
            raise UsageError(
                f"{path.name} has text column(s) {text}, but the model was fitted "
                "without column names (on an array): give a sample with only its "
                f"{model.n_features_in_} numeric feature columns (--target drops one)."
            )
        if frame.shape[1] != model.n_features_in_:
            raise UsageError(
                f"The model takes {model.n_features_in_} features, {path.name} has "
                f"{frame.shape[1]} columns{' (besides --target)' if target else ''}."
            )
        return frame.to_numpy(dtype=np.float32)
    missing = [str(c) for c in names if c not in frame.columns]
    if missing:
        raise UsageError(f"{path.name} lacks the model's feature column(s) {missing}.")
    frame = frame[list(names)]
    return frame.astype(
        {
            c: np.float32 if _is_number(dt) else "object"
            for c, dt in frame.dtypes.items()
        }
    ).fillna({c: "" for c, dt in frame.dtypes.items() if not _is_number(dt)})


def _is_number(dtype) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(
        dtype
    )


def run(args) -> list[Path]:
    """Run ``learnact export``; return the file written."""
    try:
        from ..export import to_onnx, verify_onnx
    except ImportError as exc:
        raise UsageError(str(exc)) from exc
    model = _load_model(Path(args.model))
    text = [c.strip() for c in args.text.split(",") if c.strip()]
    sample = _sample(Path(args.sample), model, args.target, text)
    out = Path(args.out)
    if not out.parent.is_dir():
        raise UsageError(f"Output folder {str(out.parent)!r} does not exist.")
    classifier = is_classifier(model)
    options = {"zipmap": False} if classifier and args.no_zipmap else None
    try:
        onnx_model = to_onnx(
            model, sample[:1], out, spline_form=args.spline_form, options=options
        )
    except NotImplementedError as exc:
        raise UsageError(f"Cannot export {args.model}: {exc}") from exc
    except (ValueError, TypeError) as exc:
        raise UsageError(
            f"Cannot export {args.model}: {exc} (learnact export reads the "
            "sample's numbers as float32 and its text as strings; --text COLUMNS "
            "reads columns as text)"
        ) from exc
    agreement = verify_onnx(model, onnx_model, sample)
    inputs = [i.name for i in onnx_model.graph.input]
    outputs = [o.name for o in onnx_model.graph.output]
    opset = next(o.version for o in onnx_model.opset_import if o.domain == "")
    print(
        f"Exported {type(model).__name__} to {out} ({out.stat().st_size / 1e3:.0f} "
        f"kB, ai.onnx opset {opset}); inputs: "
        f"{', '.join(inputs) if len(inputs) <= 8 else f'{len(inputs)} columns'}; "
        f"outputs: {', '.join(outputs)}."
    )
    n = agreement["n_samples"]
    prefix = "proba_" if classifier else ""
    rel, abs_ = agreement[f"{prefix}max_rel_error"], agreement[f"{prefix}max_abs_error"]
    what = "probabilities" if classifier else "predictions"
    lines = [f"Verified with onnxruntime on the {n} rows of {Path(args.sample).name}:"]
    if classifier:
        same = agreement["label_agreement"]
        lines.append(
            f"  labels identical on {same:.2%} of the rows ({round(same * n)}/{n})"
        )
    scale = "largest probability" if classifier else "largest value of each target"
    lines.append(
        f"  {what}: max abs difference {abs_:.2g}, max relative difference "
        f"{rel:.2g} (the largest difference over the {scale})"
    )
    print("\n".join(lines))
    if rel > _MAX_REL_ERROR:
        raise UsageError(
            f"The ONNX model disagrees with the estimator: {what} differ by up to "
            f"{rel:.2g} relative (more than {_MAX_REL_ERROR:g}); {out} is kept for "
            "inspection. Please report this with the model."
        )
    return [out]
