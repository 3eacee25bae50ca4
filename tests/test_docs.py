"""The documentation's code runs: the doctests of the docs pages, and every
Python block of README.md, as a reader would run them."""

import doctest
import io
import re
import sys
import types
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


@pytest.mark.parametrize("page", ["adding_an_activation.rst"])
def test_docs_page_doctests(page, monkeypatch):
    pytest.importorskip("onnxruntime")
    path = DOCS / page
    # the page's names live in a real module, as a user's would (its classes
    # must be importable to be pickled, e.g. by the compressor's copy)
    module = types.ModuleType(f"docs_{path.stem}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    test = doctest.DocTestParser().get_doctest(
        path.read_text(encoding="utf-8"), {}, page, str(path), 0
    )
    test.globs = module.__dict__  # DocTest copies the globals it is given
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    report = io.StringIO()
    result = runner.run(test, out=report.write)
    assert result.attempted > 20
    assert result.failed == 0, report.getvalue()


def test_the_docs_table_of_activations_is_read_from_the_registry(tmp_path):
    import importlib.util

    from sklearn_learnact.activations import ACTIVATIONS

    spec = importlib.util.spec_from_file_location(
        "_activation_table", DOCS / "_activation_table.py"
    )
    table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(table)
    table.write(tmp_path / "activations.rst")
    text = (tmp_path / "activations.rst").read_text()
    assert all(f"``{name}``" in text for name in ACTIVATIONS)
    rows = {row[0].strip("`"): row for row in table.rows()}
    assert rows["spline"][5] == "native + compiled" and rows["prelu"][5] == "autograd"
    assert rows["relu"][6] == rows["expr"][7] == "yes"


def test_readme_python_blocks_run_as_is(monkeypatch, tmp_path, capsys):
    """The README's Python blocks, in order, in one fresh namespace (as a reader
    pastes them into one session), in an empty folder; no warning."""
    pytest.importorskip("onnxruntime")
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)
    assert len(blocks) >= 2
    monkeypatch.chdir(tmp_path)
    module = types.ModuleType("readme")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for block in blocks:
            exec(compile(block, str(ROOT / "README.md"), "exec"), module.__dict__)
    printed = capsys.readouterr().out
    assert "beat relu" in printed and "label_agreement" in printed
    assert module.details.caveats() == []  # no under-trained fits, enough folds
    assert (tmp_path / "model.onnx").is_file()
