"""The documentation's code runs: the doctests of the docs pages."""

import doctest
import io
import sys
import types
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


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
