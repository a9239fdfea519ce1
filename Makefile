# The two set-up commands: `make solutions` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: solutions test check bench setup tex fonts graphviz browser amc php clean readme-image readme-html-image

# The default exam into output/: needs the virtual environment, TeX (for the PDFs) and
# Graphviz (for the figures' computational graphs).
solutions: $(STAMP) tex graphviz
	$(BIN)/wsgen build --out output

# The whole suite, as CI runs it: every tier, and a tier whose program is missing fails;
# on two workers (pytest-xdist), the 15 slowest tests listed.
test: setup
	$(BIN)/python -m pytest --require-tools -n 2 --durations=15

# The fast tier for an edit-run cycle: no TeX, browser, packaging or slow sweeps.
check: $(STAMP) graphviz
	$(BIN)/python -m pytest -q -n 2 -m "not (tex or browser or packaging or slow or amc or lms)"

# The speed figures (tests/bench.py): issue 27's five, this checkout beside WSGEN_BENCH_REF
# (default f3d9d02); WSGEN_BENCH_FULL=1 adds the in-process sweep.  Nothing here is a test.
bench: setup
	$(BIN)/python tests/bench.py compare

setup: $(STAMP) tex fonts graphviz browser amc php

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	@touch $@

# TeX Live (Debian's packages) for PDF output, installed when missing.
tex:
	@sh scripts/ensure-tex

# LuaLaTeX and the Noto fonts (Debian's packages) for names and titles in scripts pdfTeX's
# fonts lack (Vietnamese, CJK, Arabic, Hebrew, …), installed when missing.
fonts:
	@sh scripts/ensure-fonts

# Graphviz (Debian's package): dot lays out the figures' computational graphs.
graphviz:
	@sh scripts/ensure-graphviz

# Headless Chromium (Debian's package) for the HTML format's browser test, installed when missing.
browser:
	@sh scripts/ensure-browser

# PHP (Debian's php-cli, php-xml, php-mbstring) for the quiz tests' run of Moodle's importer, when missing.
php:
	@sh scripts/ensure-php

# auto-multiple-choice (Debian's package) for the scanned answer sheets' test, installed when missing.
amc:
	@sh scripts/ensure-amc

# The README's pictures: page 1 of the canonical key, the cover of the canonical question
# sheet, and the key's page where Q2's long gradient lines break; from a fresh build.
readme-image: setup
	$(BIN)/wsgen build --out build/readme --variants 0 --formats pdf --quiet
	pdftoppm -png -r 60 -f 1 -l 1 -singlefile build/readme/canonical/key.pdf docs/canonical-key-page1
	pdftoppm -png -r 60 -f 1 -l 1 -singlefile build/readme/canonical/questions.pdf docs/canonical-sheet-cover
	$(BIN)/wsgen build --out build/readme-student --variants 0 --formats pdf --quiet --key-audience student
	pdftoppm -png -r 60 -f 1 -l 1 -singlefile build/readme-student/canonical/key.pdf docs/canonical-key-student-page1
	page=$$(for p in $$(seq 1 40); do pdftotext -f $$p -l $$p build/readme/canonical/key.pdf - 2>/dev/null \
	        | grep -q "Gradients, numerically" && { echo $$p; break; }; done); \
	pdftoppm -png -r 60 -f $$page -l $$page -singlefile build/readme/canonical/key.pdf docs/canonical-key-breaks
	rm -rf build/readme build/readme-student

# The README's picture of an HTML key: the browser test's screenshot of the canonical key.
readme-html-image: setup
	$(BIN)/python -m pytest -q tests/test_html.py -k real_browser
	cp build/browser/canonical-key.png docs/html-key.png

clean:
	rm -rf $(VENV) output/* build *.egg-info
