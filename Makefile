VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The npm packages the tests run (the interop harness, the ECDSA fixtures): every package-lock.json
# under tests/. npm ci writes node_modules/.package-lock.json last: it stands for "installed".
NPM_LOCKS := $(wildcard tests/*/package-lock.json tests/*/*/package-lock.json)
NPM_INSTALLED := $(NPM_LOCKS:%/package-lock.json=%/node_modules/.package-lock.json)
AXE_VERSION := 4.10.3
AXE := .axe/node_modules/axe-core/axe.min.js

.PHONY: test test-tools chromium demo bench clean screenshots

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

# Everything the suite needs, each step skipped when already done: the Python packages, the
# interop harness (Digital Bazaar's libraries from npm), Debian's chromium, axe-core. A step
# that cannot run here (no node, not root) says so, and the tests that need it skip, listed by
# the last line of the run.
test-tools: $(STAMP) $(NPM_INSTALLED) chromium $(AXE)

test: test-tools
	$(PY) -m pytest -q

%/node_modules/.package-lock.json: %/package.json %/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  cd $* && npm ci --silent --no-audit --no-fund; \
	else echo "note: npm is not installed, so the tests that need $* will skip"; fi

$(AXE):
	@if command -v npm >/dev/null 2>&1; then \
	  npm install --silent --no-audit --no-fund --prefix .axe axe-core@$(AXE_VERSION); \
	else echo "note: npm is not installed, so the accessibility scan will skip"; fi

# Headless browser for the page tests: Debian's chromium (driven by Playwright), as root only.
chromium:
	@if ! command -v chromium >/dev/null 2>&1 || ! [ -d /usr/share/fonts/truetype/dejavu ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium and fonts-dejavu-core from Debian"; \
	    apt-get update -q >/dev/null 2>&1 || true; \
	    apt-get install -y -q chromium fonts-dejavu-core >/dev/null 2>&1 \
	      || echo "warning: could not install chromium; the browser tests will skip"; \
	  else echo "note: chromium is missing (install it as root: apt-get install chromium fonts-dejavu-core); the browser tests will skip"; fi; \
	fi

demo: $(STAMP)
	$(VENV)/bin/badgesmith demo

# A PNG of every page state (badge states, certificates, verify results, learner page, catalog) at 1280 px and
# 390 px, each also scanned by axe-core: look at them all in screenshots/.
screenshots: $(STAMP) chromium $(AXE)
	BADGESMITH_SCREENSHOTS=$(CURDIR)/screenshots $(PY) -m pytest -q tests/web/test_public_face_browser.py \
	  tests/web/test_learner_pages_browser.py tests/web/test_catalog_browser.py tests/web/test_association_learner_browser.py
	@echo "Screenshots of every page state: screenshots/"

bench: $(STAMP) tests/interop/node_modules/.package-lock.json
	$(PY) benchmarks/sign_verify.py 2000
	$(PY) benchmarks/compare.py 300 3
	$(PY) benchmarks/cli_verify.py 20
	$(PY) benchmarks/canonicalize.py 3000
	$(PY) benchmarks/verify.py 1000
	$(PY) benchmarks/roster.py 10000
	$(PY) benchmarks/roster_rerun.py 10000
	$(PY) benchmarks/http_verify.py 10 8
	$(PY) benchmarks/http_wrk.py 10
	$(PY) benchmarks/http_vc_api.py 10 4 --threads 4
	$(PY) benchmarks/records.py
	$(PY) benchmarks/association.py
	$(PY) benchmarks/claim.py 100
	$(PY) benchmarks/claim.py 100 --suite eddsa-rdfc-2022
	$(PY) benchmarks/oid4vci_claim.py 200
	$(PY) benchmarks/oid4vci_claim.py 200 --format jwt_vc_json

clean:
	rm -rf $(VENV) build *.egg-info $(NPM_LOCKS:%/package-lock.json=%/node_modules)
