# The study's two commands:  make reproduce   and   make test
# Both create .venv (plain venv, no conda needed) and install everything on first use.
# An environment you already have (conda, venv): make test PY_ENV=$CONDA_PREFIX (or $VIRTUAL_ENV);
# the study is then installed into it with pip instead of creating .venv.
# The package needs Python 3.11: where python3 is another version, make test PYTHON=python3.11
PYTHON ?= python3
VENV ?= .venv
TORCH := torch==2.13.0
PROFILE ?= quick
export TQDM_DISABLE ?= 1
export MPLBACKEND ?= Agg
ifdef PY_ENV
PY := $(PY_ENV)/bin/python
STAMP := build/.installed-$(subst /,_,$(PY_ENV))
else
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
endif

.PHONY: install reproduce test notebooks results clean bench-install bench citation book book-check

$(STAMP): pyproject.toml
ifndef PY_ENV
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
endif
	$(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -e ".[dev]"
	mkdir -p $(dir $@) && touch $@

install: $(STAMP)

## Execute every notebook in order with papermill (PROFILE=quick by default, PROFILE=full for paper scale).
reproduce: install
	$(PY) tools/run_notebooks.py --profile $(PROFILE)

NBVAL := --nbval-lax --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg --nbval-cell-timeout=1800

## Unit tests of lib/ and nbval re-execution of the committed notebooks, then the notebooks
## again under other floating-point code paths (shown to change the low bits) in a fresh cache.
test: install citation book
	$(BOOK_VENV)/bin/python tools/check_book.py --out $${TMPDIR:-/tmp}/book-screens
	$(PY) -m pytest tests notebooks $(NBVAL) -q
	$(PY) tools/probe_numerics.py --compare
	tmp=$$(mktemp -d) && env $$($(PY) tools/probe_numerics.py --perturbed-env) STUDY_CACHE_ROOT=$$tmp \
	    $(PY) -m pytest notebooks $(NBVAL) -q; rc=$$?; rm -rf $$tmp; exit $$rc

## The book: the executed full-profile notebooks, the results and the docs as a static site in build/book/html
## (Sphinx + MyST-NB, offline, warnings as errors), in a venv of its own; book-check opens it in headless
## Chromium where one is installed (Debian: apt-get install chromium) and says it skipped elsewhere.
BOOK_VENV := build/book-venv
book: install $(BOOK_VENV)/.installed
	$(PY) tools/build_book.py --sphinx-python $(BOOK_VENV)/bin/python
book-check: book
	$(BOOK_VENV)/bin/python tools/check_book.py
$(BOOK_VENV)/.installed: docs/book/requirements.txt
	$(PYTHON) -m venv $(BOOK_VENV)
	$(BOOK_VENV)/bin/python -m pip install --quiet -r docs/book/requirements.txt
	touch $@

## CITATION.cff validated by cffconvert, in a venv of its own (cffconvert 2.0 pins jsonschema<4,
## which Jupyter's packages cannot share).
CFF_VENV := build/cffconvert-venv
citation: $(CFF_VENV)/.installed
	$(CFF_VENV)/bin/cffconvert --validate --infile CITATION.cff
$(CFF_VENV)/.installed:
	$(PYTHON) -m venv $(CFF_VENV)
	$(CFF_VENV)/bin/python -m pip install --quiet cffconvert==2.0.0
	touch $@

## Refresh the committed notebooks' quick-profile outputs in place.
notebooks: install
	$(PY) tools/run_notebooks.py --profile quick --in-place

## Rewrite docs/results.md and the README's verdict table from the committed tables in data/full/, and the
## benchmark tables of docs/performance.md from data/full/benchmarks/.
results: install
	$(PY) tools/write_results.py
	$(PY) tools/write_performance.py

## Optional: the peer libraries of benchmarks/ (MushroomRL without its exact pins, see pyproject.toml).
bench-install: install
	$(PY) -m pip install --quiet -e ".[dev,bench]"
	$(PY) -m pip install --quiet --no-deps mushroom-rl==1.10.2

## Benchmarks against MushroomRL and sb3-contrib (~35 min; tables in data/full/benchmarks/), and the one
## fidelity check that needs no outside checkout (MushroomRL's conjugate gradient; data/full/fidelity/).
bench: bench-install
	for b in bench_rollouts bench_metafeatures bench_fqi bench_trpo bench_fisher_subsample; do $(PY) benchmarks/$$b.py || exit 1; done
	$(PY) fidelity/check_mushroom_cg.py

clean:
	rm -rf build data/quick data/cache figures/quick
