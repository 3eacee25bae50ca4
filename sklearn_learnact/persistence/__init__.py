"""Model files that never run code: :func:`save_model` and :func:`load_model`.

A pickle (``joblib.dump``) of a model is a program: loading it runs whatever
the file says, so a model file from someone else is as dangerous as their
code. :func:`save_model` writes a fitted estimator, a compressed one
(:class:`~sklearn_learnact.SplineActivationCompressor` and its
``compressed_estimator_``) or a whole Pipeline to a file that
:func:`load_model` reads without running anything from it.

The format
----------
A `safetensors <https://github.com/huggingface/safetensors>`_ file: a JSON
header and raw little-endian tensors, read by a parser that only reads (no
pickle, no code). The header's metadata holds

- ``format`` (``"sklearn-learnact.model"``) and ``format_version`` (1);
- ``object``: the model as a JSON document: parameters and fitted attributes
  as values (numbers, text, lists, dicts, arrays, data frames), each object
  naming its class (``"sklearn.pipeline.Pipeline"``), numeric arrays and the
  networks' tensors by their name in the tensor section;
- ``sha256``: a digest of the document and of every tensor, so a file changed
  after it was saved (damaged, or tampered with) is refused;
- the versions of the libraries that wrote it.

Loading checks every class name against the trusted set *before* importing
anything: the library's estimators and compressor and scikit-learn's
preprocessing classes by default, more only with
``load_model(path, trusted=[...])``. An object is rebuilt as ``cls.__new__``
plus its ``__setstate__`` with the decoded values (scikit-learn's
convention); a learned-activation network is rebuilt from the estimator's
parameters, as ``fit`` builds it (the activation by its registry name, its
options checked), then filled with the saved tensors by
``load_state_dict(strict=True)``; the compressor's replacement modules
(``SplineActivation``, ``SymbolicActivation``) are rebuilt from the shapes
and names of their tensors. Nothing the file says can choose a function to
call.

Why not ``skops.io``
--------------------
skops (0.16, the scikit-learn ecosystem's secure format) was evaluated
first: it cannot save these models. Dumping a fitted estimator fails inside
the skorch network (``TypeError: no default __reduce__ due to non-trivial
__cinit__``), and skops has no node for torch tensors or modules: it would
rebuild them through torch's pickle reducers, the very functions that must
not be trusted. JSON plus safetensors stores exactly what a model is (its
parameters, its fitted values, its tensors), keeps the loader small enough to
review, and the tensors can be read by any safetensors tool.

What it stores
--------------
Every built-in activation and every activation registered with
:func:`~sklearn_learnact.activations.register_activation` whose module's state
is its options plus its ``state_dict`` (the module that registered it must be
imported before loading, or named in ``trusted``); the optimiser's state and
the training history (``warm_start`` continues as after a pickle); the
compressor with its report, layers and replacement modules; Pipelines and
ColumnTransformers of scikit-learn preprocessing. A value it cannot store
(a function, a torch module given as an option) makes :func:`save_model`
fail, naming where it is, rather than write a file that loads differently.
"""

from ._files import (
    FORMAT,
    FORMAT_VERSION,
    ModelFileError,
    UntrustedTypeError,
    is_model_file,
    load_model,
    save_model,
)
from ._trusted import default_trusted

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ModelFileError",
    "UntrustedTypeError",
    "default_trusted",
    "is_model_file",
    "load_model",
    "save_model",
]
