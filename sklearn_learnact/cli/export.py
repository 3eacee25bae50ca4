"""``learnact export``: a saved model to ONNX, verified on a CSV sample.

The model file is one written by :func:`sklearn_learnact.save_model`, whose
loading never runs code. A pickle (``joblib.dump``) runs any code it holds
when it is loaded, so it is opened only with ``--trust-pickle``.
"""

import argparse
import warnings
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
        description="Convert a fitted estimator or Pipeline saved with "
        "sklearn_learnact.save_model (a file whose loading never runs code) to "
        "ONNX, run it in onnxruntime on every row of the sample and print how "
        "well it agrees with the model. A pickle (joblib.dump) runs any code it "
        "holds when it is loaded: it is opened only with --trust-pickle, and "
        "should come only from someone you trust. The sample's columns define "
        "the ONNX inputs: the model's feature_names_in_ when it has them (one "
        "input per column: numbers as float32, text and the --text columns as "
        "strings, empty text cells as empty strings), else every column but "
        "--target as one float32 matrix.",
    )
    export.add_argument(
        "model",
        help="the model file, written by sklearn_learnact.save_model(model, path)",
    )
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
        "--trust-pickle",
        action="store_true",
        help="also open MODEL if it is a pickle (joblib.dump): loading a pickle "
        "runs any code it holds, so use this only for a file from someone you "
        "trust (default: pickles are refused)",
    )
    export.add_argument(
        "--no-zipmap",
        action="store_true",
        help="classifiers: a probabilities tensor instead of a list of dicts",
    )
    export.set_defaults(run=run)
    return export


def _load_model(path: Path, trust_pickle: bool = False):
    from ..persistence import ModelFileError, is_model_file, load_model

    if not path.is_file():
        raise UsageError(f"Model file {str(path)!r} not found.")
    if is_model_file(path):
        try:
            model = load_model(path)
        except ModelFileError as exc:
            raise UsageError(str(exc)) from exc
    elif not trust_pickle:
        raise UsageError(
            f"{str(path)!r} is not a model file written by "
            "sklearn_learnact.save_model (whose loading never runs code). If it is "
            "a pickle (joblib.dump), loading it would run any code it holds: it is "
            "not opened. Save the model with sklearn_learnact.save_model(model, "
            "path), or pass --trust-pickle if the file comes from someone you "
            "trust."
        )
    else:
        model = _unpickle(path)
    if not hasattr(model, "predict"):
        raise UsageError(
            f"{str(path)!r} holds a {type(model).__name__}, not a fitted estimator."
        )
    return model


def _unpickle(path: Path):
    """``joblib.load``, after a warning: a pickle runs any code it holds."""
    import joblib

    warnings.warn(
        f"{path} is loaded as a pickle (--trust-pickle): loading a pickle runs any "
        "code it holds; open pickles only from someone you trust, and save models "
        "with sklearn_learnact.save_model, whose files never run code.",
        UserWarning,
        stacklevel=2,
    )
    try:
        return joblib.load(path)
    except Exception as exc:  # pickle raises many kinds
        raise UsageError(
            f"Cannot load {str(path)!r} as a pickle ({type(exc).__name__}: {exc})."
        ) from exc


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
    model = _load_model(Path(args.model), args.trust_pickle)
    text = [c.strip() for c in args.text.split(",") if c.strip()]
    sample = _sample(Path(args.sample), model, args.target, text)
    if not args.out.strip():
        raise UsageError(f"--out must name the ONNX file to write, got {args.out!r}.")
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
