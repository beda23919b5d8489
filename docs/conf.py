"""Sphinx configuration of the course website. Build it with `make site` (scripts/build_site.py),
which assembles this folder, the notebooks and README sections into build/site-src first."""
from __future__ import annotations

import os
import re
import sys
import tomllib
import types
from pathlib import Path

from docutils import nodes

# The repository and ref come from one place: [tool.autorec] in pyproject.toml.
PYPROJECT = Path(os.environ.get("AUTOREC_PYPROJECT", Path(__file__).resolve().parents[1] / "pyproject.toml"))
_AUTOREC = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["autorec"]
REPOSITORY: str = _AUTOREC["repository"].rstrip("/")
REF: str = _AUTOREC["ref"]
COLAB = "https://colab.research.google.com"

project = "AutoRec, a hands-on course"
author = "the AutoRec course authors"
copyright = "the AutoRec course authors, MIT licence"

extensions = [
    "myst_nb",                      # reads .md (MyST) and the stored .ipynb outputs
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx_togglebutton",          # folds the solutions (scripts/build_site.py marks them)
]
exclude_patterns = ["_build", "_doctrees", "Thumbs.db", ".DS_Store", "README.md", "_generated/*",
                    "node_modules"]
templates_path = ["_templates"]

# --- notebooks: rendered from their stored outputs, never executed here ---
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
suppress_warnings = ["mystnb.unknown_mime_type"]

# --- solutions: closed toggles. scripts/build_site.py tags each solution code cell `fold` (myst-nb
# gives its cell the class tag_fold) and wraps each solution markdown cell in a {toggle} (class toggle).
togglebutton_selector = ".toggle, .tag_fold"
togglebutton_hint = "Show the solution"
togglebutton_hint_hide = "Hide the solution"

# --- API reference: autosummary walks autorec_lib recursively, so a new module appears by itself ---
autosummary_generate = True
autosummary_imported_members = False
autodoc_mock_imports = ["mxnet"]          # the MXNet backend documents without MXNet installed
autodoc_default_options = {"members": True, "undoc-members": True, "show-inheritance": True}
# Importing autorec_lib.__main__ would run the command line: autosummary gets an empty stand-in.
sys.modules.setdefault("autorec_lib.__main__", types.ModuleType("autorec_lib.__main__"))
autodoc_typehints = "description"
autodoc_member_order = "bysource"
napoleon_numpy_docstring = True
napoleon_google_docstring = True

# --- warnings are errors (sphinx -W -n); types from other libraries are not ours to resolve offline ---
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(np|numpy|pd|pandas|torch|scipy|sp|mx|mxnet|gluon|nd|matplotlib|plt|tqdm)(\..*)?"),
    (r"py:.*", r"(typing|collections\.abc|pathlib|os|argparse|dataclasses|enum|abc|ssl|nbformat)\..*"),
    (r"py:.*", r"(Path|Callable|Iterable|Iterator|Sequence|Mapping|Any|Literal|Protocol|Self)"),
    (r"py:.*", r"(Axes|Figure|DataFrame|Series|ndarray|Tensor|Module|HybridBlock|Block|Trainer)"),
    (r"py:.*", r"(optional|default.*|array-like|array_like|callable|iterable|sequence|ArrayLike)"),
    (r"py:.*", r"(.*\.)?_[A-Za-z].*"),    # private helpers
]

# --- HTML: sphinx-book-theme, maths from the site itself (no CDN) ---
html_theme = "sphinx_book_theme"
html_title = "AutoRec, a hands-on course"
html_static_path = ["_static"]
html_extra_path = ["_extra"]              # _extra/student/*.ipynb -> student/*.ipynb, and each chapter's
                                          # notebook as stored beside its page (the "with solutions" download)
html_css_files = ["course.css"]
html_favicon = "_static/favicon.svg"      # else browsers ask for /favicon.ico and log a 404
html_last_updated_fmt = None
html_show_sourcelink = False
mathjax_path = "mathjax/tex-chtml.js"     # copied from npm's mathjax 3 by scripts/build_site.py
mathjax3_config = {"tex": {"tags": "ams"}, "options": {"enableMenu": True}}
html_context = {"default_mode": "auto"}  # unset, a first visit logs "Got invalid theme mode"
html_theme_options = {
    "repository_url": REPOSITORY,
    "repository_branch": REF,
    "path_to_docs": "",                   # chapters live at notebooks/<file> in the site and the repo
    "use_repository_button": True,
    "use_download_button": True,
    "launch_buttons": {"colab_url": COLAB},
    "show_toc_level": 2,
    "home_page_in_toc": True,
    # one search box: the sidebar's (the header's search button is shown where the sidebar is not)
    "navbar_persistent": [],
}


def colab_url(notebook: str) -> str:
    """The Colab link for ``notebooks/<notebook>`` at the repository's ref."""
    owner_repo = REPOSITORY.removeprefix("https://github.com/")
    return f"{COLAB}/github/{owner_repo}/blob/{REF}/notebooks/{notebook}"


def _chapter_banner(app, doctree) -> None:
    """Put 'Open in Colab' and 'Download the exercise notebook' under each chapter's title."""
    docname = app.env.docname
    if not docname.startswith("notebooks/"):
        return
    notebook = docname.removeprefix("notebooks/") + ".ipynb"
    links = [
        ("Open in Colab", colab_url(notebook), "colab-link"),
        ("Download the exercise notebook", f"../student/{notebook}", "student-download"),
        ("Download this notebook with solutions", notebook, "solutions-download"),
    ]
    para = nodes.paragraph(classes=["chapter-links"])
    for k, (text, uri, cls) in enumerate(links):
        if k:
            para += nodes.Text(" · ")
        para += nodes.reference("", text, refuri=uri, classes=[cls])
    title_section = next(iter(doctree.findall(nodes.section)), None)
    if title_section is None:
        doctree.insert(0, para)
    else:
        title = next(iter(title_section.findall(nodes.title)))
        title_section.insert(title_section.index(title) + 1, para)


def _escape_bars(app, what, name, obj, options, lines) -> None:
    """Docstrings write |x − y| for an absolute value; reST would read a substitution. Escape the bars
    outside tables and field lists."""
    for k, line in enumerate(lines):
        text = line.strip()
        if "|" in text and not text.startswith(("|", "+", ":")):
            lines[k] = re.sub(r"(?<!\\)\|", r"\\|", line)


def _resolve_short_name(app, env, node, contnode):
    """Resolve a Python reference written relative to the library (``RatingMatrix``,
    ``training.fit``) to the one documented ``autorec_lib`` object whose name ends with it.
    A name the referring module really defines but does not document (a constant such as
    ``FACTORS``) is shown as plain code. Ambiguous or unknown names stay unresolved, so nitpicky
    mode still reports them."""
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip(".~")
    domain = env.get_domain("py")
    matches = [name for name in domain.objects
               if name.startswith("autorec_lib.") and (name == target or name.endswith("." + target))]
    if len(matches) != 1:
        module = sys.modules.get(node.get("py:module") or "")
        if not matches and module is not None and "." not in target and hasattr(module, target):
            return contnode
        return None
    from sphinx.util.nodes import make_refnode
    obj = domain.objects[matches[0]]
    return make_refnode(app.builder, node["refdoc"], obj.docname, obj.node_id, contnode, matches[0])


def setup(app):
    app.connect("autodoc-process-docstring", _escape_bars, priority=600)   # after napoleon
    app.connect("missing-reference", _resolve_short_name)
    app.connect("doctree-read", _chapter_banner)
    return {"parallel_read_safe": True}
