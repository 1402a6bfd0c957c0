# The two commands a newcomer needs: `make crawl` and `make test`.
# Both create the virtual environment in .venv and install the project first.
VENV ?= .venv
PYTHON ?= python3
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $(STAMP)

.PHONY: crawl test
crawl: $(STAMP)
	$(VENV)/bin/scrapy crawl qq

# the layers first (import-linter's contracts in pyproject.toml), then the suite
test: $(STAMP)
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest
