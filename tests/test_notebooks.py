"""The course pages as notebooks (docs/notebooks): each is its page, and each runs in a Jupyter
kernel showing, cell by cell, what the page shows."""

import doctest
import importlib.util
import re
from pathlib import Path

import pytest
from _pytest.doctest import _get_checker

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("make_notebooks", ROOT / "docs" / "make_notebooks.py")
make = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make)

#: The doctest options the test suite runs the pages with (pyproject.toml); NUMBER is
#: pytest's, and so is the checker that knows it.
FLAGS = (doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
         | doctest.register_optionflag("NUMBER"))


def test_the_course_is_the_one_the_index_lists():
    assert make.COURSE[:3] == ("getting-started", "reverse-mode", "tangents")
    assert all((ROOT / "docs" / f"{name}.md").exists() for name in make.COURSE)
    assert all((make.NOTEBOOKS / f"{name}.ipynb").exists() for name in make.COURSE)


@pytest.mark.parametrize("name", make.COURSE)
def test_each_notebook_is_its_page(name):
    path = make.NOTEBOOKS / f"{name}.ipynb"
    assert path.read_text(encoding="utf-8") == make.notebook_text(name), \
        f"docs/notebooks/{name}.ipynb differs from docs/{name}.md: run python docs/make_notebooks.py"


def shown(cell):
    """What a cell showed, as doctest sees an example's output: stdout, then the result."""
    text = "".join(o["text"] for o in cell.outputs
                   if o["output_type"] == "stream" and o["name"] == "stdout")
    text += "".join(o["data"]["text/plain"] + "\n" for o in cell.outputs
                    if o["output_type"] == "execute_result")
    return text


@pytest.mark.parametrize("name", make.COURSE)
def test_each_notebook_runs_and_shows_what_its_page_shows(name, tmp_path):
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("ipykernel")
    notebook = nbformat.reads(make.notebook_text(name), as_version=4)
    nbformat.validate(notebook)
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    page = (make.DOCS / f"{name}.md").read_text(encoding="utf-8")
    examples = [None] + [example for _, example in make.page_cells(page)]   # None: the note
    assert len(examples) == len(notebook.cells)
    checker = _get_checker()
    for cell, example in zip(notebook.cells, examples):
        if example is None:
            assert cell.cell_type == "markdown" or not shown(cell).strip(), cell.source
            continue
        flags = FLAGS
        for flag, on in example.options.items():
            flags = flags | flag if on else flags & ~flag
        if example.exc_msg is not None:
            (error,) = [o for o in cell.outputs if o["output_type"] == "error"]
            message = example.exc_msg.split(": ", 1)[-1]
            assert error["ename"] == example.exc_msg.split(":", 1)[0].rsplit(".", 1)[-1]
            assert checker.check_output(message, error["evalue"] + "\n", flags), cell.source
        else:
            assert checker.check_output(example.want, shown(cell), flags), \
                f"{cell.source}\n--- the page shows:\n{example.want}--- the notebook:\n{shown(cell)}"
