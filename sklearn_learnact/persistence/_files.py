"""``save_model`` and ``load_model``: the model file, a safetensors file."""

import hashlib
import json
import os
from collections.abc import Iterable
from importlib import metadata as distributions
from pathlib import Path

import numpy as np

from .._validation import InstanceOf, Satisfies, validate_call
from ._codec import Decoder, Encoder

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ModelFileError",
    "UntrustedTypeError",
    "is_model_file",
    "load_model",
    "save_model",
]

#: The ``format`` entry of a model file's metadata.
FORMAT = "sklearn-learnact.model"
#: The version of the format this library writes (and the newest it reads).
FORMAT_VERSION = 1


class ModelFileError(ValueError):
    """A file that is not a model file of this library, or was changed since it
    was saved (damaged or tampered with), or that cannot be rebuilt here."""


class UntrustedTypeError(ModelFileError):
    """A model file names a type (or a module) outside the trusted set.

    Attributes
    ----------
    name : str
        What the file names, e.g. ``"mypackage.MyTransformer"``.
    """

    def __init__(self, message: str, name: str) -> None:
        super().__init__(message)
        self.name = name


def _import_safetensors():
    try:
        import safetensors.numpy
    except ImportError as exc:  # pragma: no cover - a dependency
        raise ImportError(
            "Model files need safetensors: pip install safetensors"
        ) from exc
    return safetensors


def _digest(document: str, tensors: dict[str, np.ndarray]) -> str:
    """SHA-256 of the document and of every tensor (name, dtype, shape, bytes)."""
    sha = hashlib.sha256(document.encode("utf-8"))
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name])
        sha.update(f"\0{name}\0{array.dtype.str}\0{array.shape}\0".encode())
        sha.update(array.tobytes())
    return sha.hexdigest()


def _is_path(value) -> bool:
    return isinstance(value, (str, os.PathLike)) and bool(os.fspath(value))


@validate_call(
    {
        "path": [Satisfies(_is_path, "a file path (str or path-like, not empty)")],
    }
)
def save_model(model, path: str | os.PathLike) -> Path:
    """Save a fitted model to a file whose loading never runs code.

    Parameters
    ----------
    model : estimator
        A :class:`~sklearn_learnact.LearnedActivationClassifier` or regressor,
        a :class:`~sklearn_learnact.SplineActivationCompressor` (its
        ``compressed_estimator_`` included), or a Pipeline of them with
        scikit-learn preprocessing; fitted or not.
    path : str or path-like
        The file to write (replaced atomically), e.g. ``"model.safetensors"``.

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    TypeError
        If the model holds a value the format does not store (a function, a
        torch module given as an option...); the message names where it is.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from sklearn_learnact import (LearnedActivationClassifier, load_model,
    ...                               save_model)
    >>> X = np.random.RandomState(0).normal(size=(40, 3)).astype(np.float32)
    >>> clf = LearnedActivationClassifier((4,), "relu", max_iter=2).fit(X, X[:, 0] > 0)
    >>> path = save_model(clf, tempfile.mkdtemp() + "/model.safetensors")
    >>> bool((load_model(path).predict_proba(X) == clf.predict_proba(X)).all())
    True
    """
    safetensors = _import_safetensors()
    encoder = Encoder()
    root = encoder.encode(model)
    document = json.dumps(root, separators=(",", ":"), allow_nan=False)
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "object": document,
        "sha256": _digest(document, encoder.tensors),
        **_versions(),
    }
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"Folder {str(path.parent)!r} does not exist.")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        safetensors.numpy.save_file(encoder.tensors, str(tmp), metadata=metadata)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _versions() -> dict[str, str]:
    """The versions that wrote the file (for the reader; never checked)."""
    out = {}
    for name in ("sklearn-learnact", "scikit-learn", "torch", "skorch"):
        try:
            out[f"{name}_version"] = distributions.version(name)
        except distributions.PackageNotFoundError:
            pass
    return out


def is_model_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a file written by :func:`save_model` (by its header).

    Reads only the header; says nothing of whether the file is intact
    (:func:`load_model` checks that).
    """
    try:
        return _metadata(Path(path)).get("format") == FORMAT
    except (ModelFileError, OSError):
        return False


def _metadata(path: Path) -> dict:
    """The metadata of the safetensors header of ``path``."""
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ModelFileError(_not_ours(path, head))
        size = int.from_bytes(head, "little")
        if size > 100_000_000 or os.fstat(f.fileno()).st_size < 8 + size:
            raise ModelFileError(_not_ours(path, head))
        header = f.read(size)
    try:
        parsed = json.loads(header)
    except ValueError:
        raise ModelFileError(_not_ours(path, head)) from None
    metadata = parsed.get("__metadata__") if isinstance(parsed, dict) else None
    return metadata if isinstance(metadata, dict) else {}


def _not_ours(path: Path, head: bytes) -> str:
    if head[:1] == b"\x80" or head[:2] in (b"x\x9c", b"\x1f\x8b", b"BZ"):
        return (
            f"{path} is not a sklearn-learnact model file: it looks like a pickle "
            "(joblib) file, and loading a pickle runs any code it holds. Load it "
            "with joblib.load only if it comes from someone you trust, then save "
            "it with sklearn_learnact.save_model."
        )
    return f"{path} is not a sklearn-learnact model file (not a safetensors file)."


def _untrusted(name: str, missing: bool = False, activation: str | None = None):
    if activation is not None:
        return UntrustedTypeError(
            f"The model uses the activation {activation!r}, which is not registered "
            f"here; the module {name!r} registered it when the model was saved. "
            f"Import {name} before loading, or pass trusted=[{name!r}] if you trust "
            "it (importing a module runs its code).",
            name,
        )
    if missing:
        return UntrustedTypeError(
            f"The model file names {name!r}, which is trusted but cannot be found "
            "here (is its package installed?).",
            name,
        )
    return UntrustedTypeError(
        f"The model file names the type {name!r}, which is not trusted: loading "
        "builds only the library's estimators, scikit-learn preprocessing and "
        f"plain data. Pass trusted=[{name!r}] only if you trust that type (its code "
        "runs when the object is rebuilt).",
        name,
    )


@validate_call(
    {
        "path": [Satisfies(_is_path, "a file path (str or path-like, not empty)")],
        "trusted": [
            None,
            InstanceOf(list, tuple, set, frozenset, description="a list of names"),
        ],
    }
)
def load_model(path: str | os.PathLike, *, trusted: Iterable[str] | None = None):
    """Load a model saved by :func:`save_model`; nothing in the file is run.

    The file is a safetensors file: a JSON header and raw tensors. The header
    holds the model as plain data (parameters, fitted attributes) naming each
    object's class; every name must be in the trusted set, checked before
    anything is imported, and the networks are rebuilt from the estimators'
    parameters and then filled with the tensors. A file changed since it was
    saved (its SHA-256 differs), or one that is not a model file, is refused.

    Parameters
    ----------
    path : str or path-like
    trusted : list of str, optional
        More names the file may use beyond the defaults (the library's
        estimators and compressor, scikit-learn's preprocessing classes):
        ``"package.module.Class"`` for a class of a Pipeline step, or the
        module that registers an activation the model uses
        (:func:`~sklearn_learnact.activations.register_activation`), which is
        then imported. Trust only names whose code you trust.

    Returns
    -------
    model : estimator

    Raises
    ------
    ModelFileError
        If the file is not a model file of this library, was damaged or
        changed after it was saved, was written by a newer version, or cannot
        be rebuilt here; :class:`UntrustedTypeError` if it names a type or
        module that is not trusted.
    """
    safetensors = _import_safetensors()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Model file {str(path)!r} not found.")
    metadata = _metadata(path)
    if metadata.get("format") != FORMAT:
        raise ModelFileError(
            f"{path} is a safetensors file but not a sklearn-learnact model (its "
            f"header has no format {FORMAT!r}): it holds tensors only."
        )
    version = metadata.get("format_version", "")
    if not version.isdigit() or int(version) > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} was saved in model format {version!r}; this version of "
            f"sklearn-learnact reads format {FORMAT_VERSION} and older: upgrade it."
        )
    try:
        tensors = safetensors.numpy.load_file(str(path))
    except Exception as exc:  # safetensors' own error type
        raise ModelFileError(f"{path} is damaged: {exc}.") from None
    document = metadata.get("object", "")
    if _digest(document, tensors) != metadata.get("sha256"):
        raise ModelFileError(
            f"{path} was changed after it was saved (its SHA-256 does not match): "
            "it is damaged or was tampered with, and is not loaded."
        )
    decoder = Decoder(tensors, frozenset(trusted or ()), _untrusted)
    try:
        return decoder.decode(json.loads(document))
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, RuntimeError) as exc:
        raise ModelFileError(
            f"{path} cannot be rebuilt: {type(exc).__name__}: {exc}"
        ) from exc
