"""The course pages as Jupyter notebooks: ``python docs/make_notebooks.py`` writes them.

Each page of the course (``COURSE``) becomes ``docs/notebooks/<page>.ipynb``: its prose a
Markdown cell, each example of its ``python`` blocks a code cell (examples that print nothing
join the next one, so a cell shows one result, as the page does). An example the page shows
raising an error is tagged ``raises-exception``, so the notebook runs on past it. Links to
other course pages point at their notebooks. The notebooks hold no outputs: run them (the
tests do, and check each output against the page's).

Edit the pages, then run this script again; ``tests/test_notebooks.py`` fails while a notebook
and its page differ.

Examples
--------
>>> cells = notebook_cells("Some prose.\\n\\n```python\\n>>> 1 + 1\\n2\\n\\n```\\n")
>>> [(cell["cell_type"], "".join(cell["source"])) for cell in cells]
[('markdown', 'Some prose.'), ('code', '1 + 1')]
"""

import doctest
import json
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
NOTEBOOKS = DOCS / "notebooks"

def course_pages(index=DOCS / "index.md"):
    """The course pages, in the order ``docs/index.md`` lists them under "The course"."""
    text = Path(index).read_text(encoding="utf-8")
    section = text.split("## The course", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.replace("\n   ", " ").splitlines()
             if re.match(r"\d+\. ", line)]
    return tuple(dict.fromkeys(re.findall(r"\]\(([a-z-]+)\.md\)", "\n".join(lines))))


#: The course pages, in the order the course reads them (read from docs/index.md).
COURSE = course_pages()

_FENCE = re.compile(r"^```python\n(.*?)^```\n", re.MULTILINE | re.DOTALL)
_LINK = re.compile(r"\]\((" + "|".join(map(re.escape, COURSE)) + r")\.md(#[^)]*)?\)")


def examples(block):
    """The doctest examples of one ``python`` block."""
    return doctest.DocTestParser().get_examples(block)


def _lines(text):
    lines = text.splitlines(keepends=True)
    if lines:
        lines[-1] = lines[-1].rstrip("\n")
    return lines


def _markdown(text):
    text = _LINK.sub(lambda m: f"]({m.group(1)}.ipynb{m.group(2) or ''})", text).strip()
    return {"cell_type": "markdown", "metadata": {}, "source": _lines(text)}


def _code(sources, raises):
    return {"cell_type": "code", "execution_count": None,
            "metadata": {"tags": ["raises-exception"]} if raises else {},
            "outputs": [], "source": _lines("".join(sources).rstrip("\n"))}


def code_cells(block):
    """The code cells of one ``python`` block, each with the example whose output it shows
    (``None`` for a last cell that shows nothing): each example that shows something ends a
    cell."""
    cells, pending = [], []
    for example in examples(block):
        pending.append(example.source)
        if example.want or example.exc_msg is not None:
            cells.append((_code(pending, example.exc_msg is not None), example))
            pending = []
    if pending:
        cells.append((_code(pending, False), None))
    return cells


def page_cells(page):
    """The cells of the notebook of a page's Markdown text (without cell ids), each with the
    example whose output it shows (``None`` for Markdown and for cells that show nothing)."""
    cells, start = [], 0
    for fence in _FENCE.finditer(page):
        prose = page[start:fence.start()]
        if prose.strip():
            cells.append((_markdown(prose), None))
        cells.extend(code_cells(fence.group(1)))
        start = fence.end()
    if page[start:].strip():
        cells.append((_markdown(page[start:]), None))
    return cells


def notebook_cells(page):
    """The cells of the notebook of a page's Markdown text (without cell ids)."""
    return [cell for cell, _ in page_cells(page)]


def notebook(name):
    """The notebook of course page ``name`` (``"reverse-mode"``), as a dict in nbformat 4.5."""
    page = (DOCS / f"{name}.md").read_text(encoding="utf-8")
    cells = notebook_cells(page)
    for k, cell in enumerate(cells):
        cell["id"] = f"{name}-{k}"
    note = _markdown(f"*This notebook is the page `docs/{name}.md`: every example is a cell. "
                     f"Run the cells in order.*")
    note["id"] = f"{name}-about"
    return {"cells": [note] + cells,
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                        "name": "python3"},
                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def notebook_text(name):
    """The notebook of ``name`` as the text of its ``.ipynb`` file."""
    return json.dumps(notebook(name), indent=1, ensure_ascii=False) + "\n"


def main():
    NOTEBOOKS.mkdir(exist_ok=True)
    for name in COURSE:
        path = NOTEBOOKS / f"{name}.ipynb"
        path.write_text(notebook_text(name), encoding="utf-8")
        print(f"wrote {path.relative_to(DOCS.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
