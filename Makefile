# AutoRec course. Two commands for a fresh clone (see README):
#   make course   set everything up, execute every notebook headless, print the key results
#   make test     set everything up, run the unit tests and every notebook under nbval
PYTHON ?= python3.11
VENV ?= .venv
VENV_NP2 ?= .venv-np2
PY := $(VENV)/bin/python
# Local data root: ../shared/data when it is there (CI, course machines), unless already set.
AUTOREC_DATA ?= $(if $(wildcard ../shared/data/ml-100k/u.data),$(abspath ../shared/data))
export AUTOREC_DATA
export PATH := $(abspath $(VENV))/bin:$(PATH)
NOTEBOOKS := $(sort $(wildcard notebooks/0*.ipynb))

.PHONY: setup course test test-main test-numpy2 bench student reference sync clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[full]"
	touch $@

$(VENV_NP2)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV_NP2)
	$(VENV_NP2)/bin/python -m pip install -q --upgrade pip
	$(VENV_NP2)/bin/python -m pip install -q -e ".[torch]" "numpy>=2" "pytest==9.2.0"
	touch $@

course: setup
	$(PY) scripts/run_course.py --out build/course $(NOTEBOOKS)

test: test-main test-numpy2

test-main: setup
	$(PY) -m pytest -q tests notebooks --nbval-lax --nbval-current-env --ignore=notebooks/student -p no:cacheprovider

# The library without MXNet and with NumPy 2 (what GPU machines have): all non-MXNet unit tests.
test-numpy2: $(VENV_NP2)/.installed
	env -u AUTOREC_REQUIRE_MXNET $(VENV_NP2)/bin/python -m pytest -q tests -p no:cacheprovider

bench: setup
	$(PY) scripts/benchmark.py

student: setup
	$(PY) scripts/make_student.py

# Re-record the exercises' stored reference answers (notebook 06's study: about 20 minutes on 2 cores).
reference: setup
	$(PY) scripts/record_references.py

# After editing a notebook's .py twin: regenerate the .ipynb, execute it, and re-derive the student copy.
sync: setup
	$(VENV)/bin/jupytext --sync notebooks/0*.py
	$(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace $(NOTEBOOKS)
	$(PY) scripts/make_student.py

# --- site (issue 13): the course website, built from the stored notebook outputs (no execution) ---
# `make setup` also installs the `site` extra and MathJax (npm, for maths without a CDN); `make test`
# runs tests/test_site.py (inside test-main), which builds the site and reads it in Chromium.
.PHONY: site test-site
setup: $(VENV)/.site-installed docs/node_modules/mathjax/package.json

$(VENV)/.site-installed: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install -q -e ".[site]"
	touch $@

docs/node_modules/mathjax/package.json: docs/package-lock.json
	cd docs && npm ci --no-audit --no-fund
	touch $@

site: setup
	$(PY) scripts/build_site.py --out build/site

test-site: setup
	$(PY) -m pytest -q tests/test_site.py -p no:cacheprovider
# --- end site ---

clean:
	rm -rf build runs $(VENV) $(VENV_NP2)
