"""The docs: every public name documented, the course linked, the README's picture there.

(The code in docs/*.md and README.md runs as doctests; see pyproject.toml.)"""

import re
from pathlib import Path

import dualad as ad

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def test_every_public_name_is_in_the_api_reference():
    page = (DOCS / "api.md").read_text(encoding="utf-8")
    missing = [name for name in ad.__all__
               if not re.search(rf"`(ad\.)?{re.escape(name)}[`(]", page)]
    assert not missing, f"docs/api.md does not document: {', '.join(missing)}"


def test_the_course_pages_are_linked_from_the_index():
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for page in ("getting-started.md", "reverse-mode.md", "tangents.md", "trade-off.md",
                 "extending.md", "primitives.md", "command-line.md", "api.md", "models.md"):
        assert (DOCS / page).exists()
        assert f"({page})" in index, f"docs/index.md does not link {page}"


def test_the_readme_shows_the_mode_cost_plot():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme)
    assert images, "the README shows no picture"
    for image in images:
        data = (ROOT / image).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"



def test_the_operations_table_lists_exactly_the_public_registry_ops():
    page = (DOCS / "api.md").read_text(encoding="utf-8")
    section = page[page.index("## Operations"):page.index("## Transforms")]
    listed = set(re.findall(r"^\| [^|]+ \| (.+) \|$", section, flags=re.M))
    names = {m for row in listed for m in re.findall(r"`(\w+)\(", row)}
    assert names == set(ad.OPERATIONS)       # the public ops registered when dualad loads
