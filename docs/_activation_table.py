"""Write the table of registered activations that the docs include.

Run by ``conf.py`` at every build: the table is read from the registry's
specs (:class:`~sklearn_learnact.activations.ActivationSpec`), never written
by hand.
"""

from pathlib import Path

from sklearn_learnact.activations import ACTIVATIONS

HEADER = (
    "name",
    "kind",
    "options",
    "summary",
    "per neuron",
    "fast path",
    "cost",
    "ONNX",
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("*", "\\*") or " "


def rows() -> list[tuple[str, ...]]:
    """One row per registered activation, in registry order."""
    out = []
    for spec in ACTIVATIONS.values():
        info = spec.describe()
        fast = (
            "native + compiled"
            if info["native"]
            else ("compiled" if info["formula"] else "autograd")
        )
        out.append(
            (
                f"``{spec.name}``",
                info["kind"],
                ", ".join(f"``{o}``" for o in spec.options) or "-",
                _cell(spec.summary),
                "yes" if spec.per_neuron else "-",
                fast,
                "yes" if info["cost"] else "-",
                "yes" if info["onnx"] else "-",
            )
        )
    return out


def write(path: Path) -> None:
    """The table as an RST ``list-table`` at ``path``."""
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in (HEADER, *rows()):
        lines.append(f"   * - {row[0]}")
        lines.extend(f"     - {cell}" for cell in row[1:])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
