# One command each: `make test` (sets itself up on a fresh machine), `make demo`, `make bench`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test demo bench screenshots console clean

# constraints.txt pins every package to the version the suite ran on, so a fresh machine gets the same.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

demo: $(STAMP)
	$(VENV)/bin/code-console demo

console: $(STAMP)
	$(VENV)/bin/code-console

bench: $(STAMP)
	$(PY) -m bench

screenshots: $(STAMP)
	$(PY) scripts/export_screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache
