VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test demo bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

demo: $(STAMP)
	$(VENV)/bin/badgesmith demo

bench: $(STAMP)
	$(PY) benchmarks/sign_verify.py 2000
	$(PY) benchmarks/canonicalize.py 3000
	$(PY) benchmarks/verify.py 1000
	$(PY) benchmarks/roster.py 10000
	$(PY) benchmarks/http_verify.py 10 8
	$(PY) benchmarks/http_vc_api.py 10 4 --threads 4
	$(PY) benchmarks/records.py

clean:
	rm -rf $(VENV) build *.egg-info
