"""Sphinx configuration for sklearn-learnact."""

import sys
from pathlib import Path

import sklearn_learnact

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

intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "sklearn": ("https://scikit-learn.org/stable", None),
    "torch": ("https://pytorch.org/docs/stable", None),
    "skorch": ("https://skorch.readthedocs.io/en/stable", None),
}

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/(plot_|quickstart)",
    # shared plumbing of the seed examples, imported by them, not an example
    "ignore_pattern": r"__init__\.py|_reproduce\.py",
}

# keep "--full" in the results' command column as typed (no en dash)
smartquotes_action = "qe"

# The table of registered activations, read from the registry's specs.
sys.path.insert(0, str(Path(__file__).parent))
import _activation_table  # noqa: E402

_activation_table.write(Path(__file__).parent / "_generated" / "activations.rst")
