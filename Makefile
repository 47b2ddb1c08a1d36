# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv if missing and install.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEMO   := demo-output

.PHONY: demo test lint bench validate samples clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) scripts/demo.py --out $(DEMO)

test: $(STAMP)
	$(PY) -m ruff check gait devices tests benchmarks scripts notebooks
	$(PY) -m pytest -q

lint: $(STAMP)
	$(PY) -m ruff check gait devices tests benchmarks scripts notebooks

validate: $(STAMP)
	$(VENV)/bin/gait validate

bench: $(STAMP)
	for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

samples: $(STAMP)
	$(PY) scripts/make_samples.py

clean:
	rm -rf $(DEMO) .pytest_cache
