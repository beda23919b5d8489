# AutoRec course. Two commands for a fresh clone (see README):
#   make course   set everything up, execute every notebook headless, print the key results
#   make test     set everything up, run the unit tests and every notebook under nbval, on both stacks
# then `make lab` opens the learners' copies (notebooks/student/) in JupyterLab.
#
# Two stacks, each in its own virtual environment:
#   legacy   .venv          Python 3.11, NumPy 1.23.5, MXNet 1.9.1, pinned (pyproject's `full` extra)
#   current  .venv-current  Python 3.12 (Colab's) if found, else 3.13, else 3.11; NumPy 2, the newest
#                           pandas, no MXNet (pyproject's `current` extra): what Colab and laptops have
# Setup never empties an environment: it creates one where none is, and otherwise installs the course
# into the one that is there (it refuses, saying why, when that one holds another Python version).
# Without Python 3.11 the legacy stack is skipped with a message (CI=true makes that an error).
# `make stacks` shows which interpreter each stack uses; override with PYTHON_LEGACY=/path/to/python3.11
# or PYTHON_CURRENT=/path/to/python, or narrow the current stack's versions with CURRENT_VERSIONS=3.12.
LEGACY_VERSION := 3.11
CURRENT_VERSIONS ?= 3.12 3.13 3.11
LEGACY_VENV ?= .venv
CURRENT_VENV ?= .venv-current
STACKS ?= legacy current
PYENV_VERSIONS := $(or $(PYENV_ROOT),$(HOME)/.pyenv)/versions

# $(call runs_as,python,versions): the python if it runs and is one of the versions (a pyenv shim
# that is not selected refuses to run, so it is skipped like a missing one).
runs_as = $(shell "$(1)" -c 'import sys; sys.exit("%d.%d" % sys.version_info[:2] not in "$(2)".split())' >/dev/null 2>&1 && echo "$(1)")
# In the order of the versions asked for: for each, the command on PATH, then pyenv's versions folder
# (no shims needed); plain python3 last. So "3.12 3.13 3.11" takes a 3.12 before a selected 3.11.
candidates = $(foreach v,$(1),python$(v) $(sort $(wildcard $(PYENV_VERSIONS)/$(v).*/bin/python$(v)))) python3
find_python = $(firstword $(foreach p,$(call candidates,$(1)),$(call runs_as,$(p),$(1))))

ifndef PYTHON_LEGACY
PYTHON_LEGACY := $(call find_python,$(LEGACY_VERSION))
endif
ifndef PYTHON_CURRENT
PYTHON_CURRENT := $(call find_python,$(CURRENT_VERSIONS))
endif
version_of = $(if $(1),$(shell "$(1)" -c 'import sys; print("%d.%d" % sys.version_info[:2])'))
CURRENT_VERSION := $(call version_of,$(PYTHON_CURRENT))
LEGACY_MISSING := The legacy stack (MXNet, notebook 05's MXNet cells) needs Python $(LEGACY_VERSION), and none runs here (tried: $(strip $(call candidates,$(LEGACY_VERSION)))). Install Python $(LEGACY_VERSION) and run make again, or with conda: conda env create -f environment.yml
CURRENT_MISSING := No supported Python ($(CURRENT_VERSIONS)) runs here (tried: $(strip $(call candidates,$(CURRENT_VERSIONS)))). Install one, or set PYTHON_CURRENT=/path/to/python

# `make course` (and `setup`) use the legacy stack when there is one, so that notebook 05 runs whole.
STACK ?= $(if $(PYTHON_LEGACY),legacy,current)
VENV := $(if $(filter legacy,$(STACK)),$(LEGACY_VENV),$(CURRENT_VENV))
PY := $(VENV)/bin/python
# Local data root: ../shared/data when it is there (CI, course machines), unless already set.
AUTOREC_DATA ?= $(if $(wildcard ../shared/data/ml-100k/u.data),$(abspath ../shared/data))
export AUTOREC_DATA
NOTEBOOKS := $(sort $(wildcard notebooks/0*.ipynb))
# The site's maths renderer, from npm (see `site` below); defined before the rules that need it.
MATHJAX := docs/node_modules/mathjax/package.json
NBVAL := -m pytest -q tests notebooks --nbval-lax --nbval-current-env --ignore=notebooks/student -p no:cacheprovider
# Each stack's own bin first, so that jupyter and the kernel come from that stack.
in_venv = PATH="$(abspath $(1))/bin:$$PATH" $(1)/bin/python

.PHONY: setup setup-legacy setup-current stacks course lab test test-legacy test-current bench speed d2l gpu-check student reference reproduce sync site test-site clean

stacks:
	@echo "legacy:  $(or $(PYTHON_LEGACY),none)  -> $(LEGACY_VENV)"
	@echo "current: $(or $(PYTHON_CURRENT),none) (Python $(or $(CURRENT_VERSION),-)) -> $(CURRENT_VENV)"

setup: setup-$(STACK)

setup-legacy:
ifeq ($(PYTHON_LEGACY),)
	@echo "SKIPPED: $(LEGACY_MISSING)"
	@if [ "$$CI" = "true" ]; then echo "CI must run both stacks: failing." >&2; exit 1; fi
else
	@$(MAKE) -s --no-print-directory $(LEGACY_VENV)/.installed
endif

setup-current:
ifeq ($(PYTHON_CURRENT),)
	@echo "$(CURRENT_MISSING)" >&2; exit 1
else
	@$(MAKE) -s --no-print-directory $(CURRENT_VENV)/.installed-py$(CURRENT_VERSION)
endif

# $(call make_venv,python,folder,version): create the environment where there is none; reuse the one
# there (never cleared) when it runs that Python version, else refuse and say what to do.
define make_venv
	@if [ ! -e "$(2)/bin/python" ]; then \
	  echo "setting up $(2) with $(1) (Python $(3); a few minutes, once)"; \
	  "$(1)" -m venv "$(2)" && "$(2)/bin/python" -m pip install -q --upgrade pip; \
	else \
	  found=$$("$(2)/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); \
	  if [ "$$found" != "$(3)" ]; then \
	    echo "$(2) holds Python $${found:-that does not run}, not $(3); it is left as it is. Remove it yourself, or name another folder (LEGACY_VENV=... or CURRENT_VENV=...)." >&2; exit 1; \
	  fi; \
	  echo "updating the existing environment $(2) (Python $(3); nothing is removed)"; \
	fi
endef

$(LEGACY_VENV)/.installed: pyproject.toml
	$(call make_venv,$(PYTHON_LEGACY),$(LEGACY_VENV),$(LEGACY_VERSION))
	$(LEGACY_VENV)/bin/python -m pip install -q -e ".[full,site]"
	touch $@

# The stamp names the Python version, so that another interpreter rebuilds the environment.
$(CURRENT_VENV)/.installed-py$(CURRENT_VERSION): pyproject.toml
	$(call make_venv,$(PYTHON_CURRENT),$(CURRENT_VENV),$(CURRENT_VERSION))
	$(CURRENT_VENV)/bin/python -m pip install -q -e ".[current,site]"
	touch $@

course: setup
ifeq ($(PYTHON_LEGACY),)
	@echo "NOTE: running the course on the current stack: notebook 05 skips its MXNet cells. $(LEGACY_MISSING)"
endif
	@$(call in_venv,$(VENV)) scripts/run_course.py --out build/course $(NOTEBOOKS)

# The learners' copies in JupyterLab, from the course's environment (the one `make course` set up;
# no setup here, so that it starts at once). tests/test_jupyterlab.py runs this target.
lab:
	@if [ ! -x "$(VENV)/bin/jupyter" ]; then echo "JupyterLab is not installed in $(VENV): run make course first." >&2; exit 1; fi
	$(VENV)/bin/jupyter lab notebooks/student

test: $(addprefix test-,$(STACKS))

test-legacy: setup-legacy $(MATHJAX)
ifneq ($(PYTHON_LEGACY),)
	@echo "== legacy stack: $$($(LEGACY_VENV)/bin/python -c 'import sys, numpy; print("Python", sys.version.split()[0], "NumPy", numpy.__version__)')"
	$(call in_venv,$(LEGACY_VENV)) $(NBVAL)
endif

# No MXNet here: MXNet's unit tests skip, and notebook 05 skips its MXNet cells.
test-current: setup-current $(MATHJAX)
	@echo "== current stack: $$($(CURRENT_VENV)/bin/python -c 'import sys, numpy, pandas; print("Python", sys.version.split()[0], "NumPy", numpy.__version__, "pandas", pandas.__version__)')"
	env -u AUTOREC_REQUIRE_MXNET $(call in_venv,$(CURRENT_VENV)) $(NBVAL)

bench: setup
	$(PY) scripts/benchmark.py

student: setup
	$(PY) scripts/make_student.py

# Speed, each framework in its own process, against the measured floor (about 4 minutes).
speed: setup
	$(PY) scripts/speed.py

# d2l's AutoRec chapter against ours, every run a process of its own (a few minutes). d2l pins
# NumPy 1.23.5 and needs none of ours, so it gets an environment of its own with Python 3.11.
D2L_VENV ?= .venv-d2l
$(D2L_VENV)/.installed:
	$(call make_venv,$(PYTHON_LEGACY),$(D2L_VENV),$(LEGACY_VERSION))
	$(D2L_VENV)/bin/python -m pip install -q mxnet==1.9.1 d2l==1.0.3
	touch $@

d2l: setup-legacy $(D2L_VENV)/.installed
	$(LEGACY_VENV)/bin/python scripts/d2l_compare.py --d2l-python $(D2L_VENV)/bin/python

# On a CUDA machine after `pip install -e .` (Python 3.12, no MXNet): every notebook and the speed
# benchmark on the GPU, into a JSON and a markdown table (about 10 minutes on one H100).
gpu-check:
	python scripts/gpu_check.py $(if $(AUTOREC_DATA),--data $(AUTOREC_DATA))

# Notebook 09's record: tune I-AutoRec on validation, then 5 random splits and folds u1..u5 per model
# (77 runs, about 4 minutes on 2 cores; resumes from build/reproduce-runs.jsonl).
reproduce: setup
	OMP_NUM_THREADS=1 $(PY) scripts/reproduce.py

# Re-record the exercises' stored reference answers (notebook 06's study: about 2 hours with two processes on 2 cores;
# it resumes from build/ where it stopped).
reference: setup
	OMP_NUM_THREADS=1 $(PY) scripts/record_references.py --jobs 2

# After editing a notebook's .py twin: regenerate the .ipynb, execute it, and re-derive the student copy.
sync: setup
	$(VENV)/bin/jupytext --sync notebooks/0*.py
	$(call in_venv,$(VENV)) -m jupyter nbconvert --to notebook --execute --inplace $(NOTEBOOKS)
	$(PY) scripts/make_student.py

# The course website, built from the stored notebook outputs (no execution); both stacks install
# the `site` extra, and MathJax comes from npm (maths without a CDN). `make test` runs
# tests/test_site.py on each stack: it builds the site and reads every page in Chromium.
$(MATHJAX): docs/package-lock.json
	cd docs && npm ci --no-audit --no-fund
	touch $@

site: setup $(MATHJAX)
	$(PY) scripts/build_site.py --out build/site

test-site: setup $(MATHJAX)
	$(call in_venv,$(VENV)) -m pytest -q tests/test_site.py -p no:cacheprovider

clean:
	rm -rf build runs $(LEGACY_VENV) $(CURRENT_VENV) .venv-np2

# Grade a class (issue 23; see docs/grading.md): every learner's notebook in SUBMISSIONS (notebooks or
# folders of them) executed in a fresh, isolated kernel and checked, into OUT/gradebook.csv and OUT/feedback/.
#   make grade SUBMISSIONS=submissions/ [OUT=grades] [TIMEOUT=1200] [JOBS=2] [MEMORY=8]
.PHONY: grade
grade:
	@if [ -z "$(SUBMISSIONS)" ]; then echo "usage: make grade SUBMISSIONS=folder-or-notebooks [OUT=grades] [TIMEOUT=seconds] [JOBS=n] [MEMORY=GiB]" >&2; exit 2; fi
	@if [ ! -x "$(VENV)/bin/python" ]; then echo "The course's environment $(VENV) is not set up: run make course (or make setup) first." >&2; exit 1; fi
	$(call in_venv,$(VENV)) -m autorec_lib grade $(SUBMISSIONS) --out $(or $(OUT),grades) $(if $(TIMEOUT),--timeout $(TIMEOUT)) $(if $(JOBS),--jobs $(JOBS)) $(if $(MEMORY),--memory $(MEMORY))
