# The two set-up commands: `make solutions` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: solutions test bench setup tex clean

solutions: setup
	$(BIN)/wsgen build --out output

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python tests/bench.py

setup: $(STAMP) tex

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	@touch $@

# TeX Live (Debian's packages) for PDF output, installed when missing.
tex:
	@sh scripts/ensure-tex

clean:
	rm -rf $(VENV) output/* build *.egg-info
