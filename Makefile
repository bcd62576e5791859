VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test demo bench clean screenshots

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

demo: $(STAMP)
	$(VENV)/bin/badgesmith demo

# A PNG of every page state (badge states, certificates, verify results, learner page) at 1280 px and
# 390 px, each also scanned by axe-core: look at them all in screenshots/.
screenshots: $(STAMP)
	test -f .axe/node_modules/axe-core/axe.min.js || npm install --silent --no-audit --no-fund --prefix .axe axe-core@4.10.3
	BADGESMITH_SCREENSHOTS=$(CURDIR)/screenshots $(PY) -m pytest -q tests/web/test_public_face_browser.py
	@echo "Screenshots of every page state: screenshots/"

bench: $(STAMP)
	$(PY) benchmarks/sign_verify.py 2000
	$(PY) benchmarks/compare.py 300 3
	$(PY) benchmarks/cli_verify.py 20
	$(PY) benchmarks/canonicalize.py 3000
	$(PY) benchmarks/verify.py 1000
	$(PY) benchmarks/roster.py 10000
	$(PY) benchmarks/http_verify.py 10 8
	$(PY) benchmarks/http_vc_api.py 10 4 --threads 4
	$(PY) benchmarks/records.py

clean:
	rm -rf $(VENV) build *.egg-info
