"""Sphinx configuration for sklearn-learnact.

The docs build without the image data and without network
(``python -m sphinx -W -b html docs docs/_build/html``):

- intersphinx links to Python, NumPy, scikit-learn, PyTorch and skorch only
  where their inventories can be reached; offline the names stay plain text,
  and the scikit-learn labels our inherited docstrings use point at its
  online user guide;
- the gallery runs an example only where the image data it needs is on disk
  (``SKLEARN_LEARNACT_DATA``, else ``~/sklearn_learnact_data``); the others are
  shown, not run, with a note at their top saying so.
"""

import os
import re
import socket

import sys
from pathlib import Path

from docutils import nodes

import sklearn_learnact
from sklearn_learnact import datasets

project = "sklearn-learnact"
author = "sklearn-learnact developers"
release = version = sklearn_learnact.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
autosummary_generate = True
numpydoc_show_class_members = False
templates_path = []
exclude_patterns = ["_build"]
html_theme = "alabaster"


def _online(host: str = "docs.python.org", timeout: float = 3.0) -> bool:
    """Whether the inventories' hosts can be reached (a quick TCP probe)."""
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
    except OSError:
        return False
    return True


INTERSPHINX = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "sklearn": ("https://scikit-learn.org/stable", None),
    "torch": ("https://pytorch.org/docs/stable", None),
    "skorch": ("https://skorch.readthedocs.io/en/stable", None),
}
intersphinx_mapping = INTERSPHINX if _online() else {}

#: scikit-learn user-guide labels used by docstrings our estimators inherit
#: (``score``): resolved by intersphinx online, by these links offline.
SKLEARN_LABELS = {
    "accuracy_score": "modules/model_evaluation.html#accuracy-score",
    "r2_score": "modules/model_evaluation.html#r2-score",
}


def _sklearn_label(app, env, node, contnode):
    target = node.get("reftarget")
    if node.get("reftype") != "ref" or target not in SKLEARN_LABELS:
        return None
    uri = f"{INTERSPHINX['sklearn'][0]}/{SKLEARN_LABELS[target]}"
    return nodes.reference("", "", contnode, internal=False, refuri=uri)


# %% The gallery: run an example only where its data is on disk

#: The image datasets each example reads (``load_<name>``); the others need none.
EXAMPLE_DATA = {
    "plot_compress_learned_activation.py": ("mnist", "cifar10"),
    "plot_affine_is_linear.py": ("mnist",),
    "plot_mixture_per_layer.py": ("kmnist", "mnist", "fashion_mnist"),
    "plot_surrogate_search.py": ("fashion_mnist",),
    "plot_robustness_dirty_data.py": ("mnist",),
}


def _on_disk(name: str) -> bool:
    loader = getattr(datasets, f"load_{name}")
    try:
        for split in ("train", "test"):
            loader(split=split, n_samples=1, random_state=0)
    except (datasets.DatasetNotFoundError, datasets.CorruptDataError):
        return False
    return True


_AVAILABLE = {name for names in EXAMPLE_DATA.values() for name in names}
_AVAILABLE = {name for name in _AVAILABLE if _on_disk(name)}
#: Examples not run here, with the datasets they lack.
NOT_RUN = {
    example: [name for name in needs if name not in _AVAILABLE]
    for example, needs in EXAMPLE_DATA.items()
    if not set(needs) <= _AVAILABLE
}
_RUN = ["quickstart.py"] + [e for e in EXAMPLE_DATA if e not in NOT_RUN]

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/(" + "|".join(re.escape(name) for name in _RUN) + ")$",
    # shared plumbing of the examples, imported by them, not an example
    "ignore_pattern": r"__init__\.py|_reproduce\.py",
}

_NOTE = """
.. note::

   This page was built without the {data} data ({home}), so the example is
   shown here but was not run. Run it yourself: it downloads the data on first
   use (see :doc:`/install`).

"""


_TITLES = {
    "mnist": "MNIST",
    "fashion_mnist": "Fashion-MNIST",
    "kmnist": "Kuzushiji-MNIST",
    "cifar10": "CIFAR-10",
}


def _note_examples_not_run(app, docname, source):
    example = docname.rpartition("/")[2] + ".py"
    if not docname.startswith("auto_examples/") or example not in NOT_RUN:
        return
    data = ", ".join(_TITLES[name] for name in NOT_RUN[example])
    note = _NOTE.format(data=data, home=datasets.get_data_home())
    source[0] = re.sub(r"^(.+\n=+\n)", lambda m: m[1] + note, source[0], 1, re.M)


def setup(app):
    app.connect("missing-reference", _sklearn_label)
    app.connect("source-read", _note_examples_not_run)


# keep "--full" in the results' command column as typed (no en dash)
smartquotes_action = "qe"

os.environ.setdefault("MPLBACKEND", "Agg")

# The table of registered activations, read from the registry's specs.
sys.path.insert(0, str(Path(__file__).parent))
import _activation_table  # noqa: E402

_activation_table.write(Path(__file__).parent / "_generated" / "activations.rst")
