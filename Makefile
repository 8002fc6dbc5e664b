# Two commands: `make demo` and `make test`. Each sets up .venv first if it is missing.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# torch==2.13.0 is a CPU build that lies on this machine's disk; installing it first keeps pip
# from reaching for a multi-GB CUDA build when it resolves lstmlab's "torch>=2.4".
TORCH  ?= torch==2.13.0

.PHONY: setup demo test check bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[dev,forecast]"
	$(PY) -m lstmlab.kernels.lstm_cpu    # builds backend bptt's C++ loops once (~15 s); never fails setup
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/lstmlab demo --out figures

# pytest's exit code 5 means it collected no tests: that is a failure too.
test: $(STAMP)
	LSTMLAB_BENCH_SMOKE=1 $(PY) -m pytest -q --benchmark-disable; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

check: $(STAMP)
	$(VENV)/bin/lstmlab check

clean:
	rm -rf $(VENV) .pytest_cache .benchmarks build *.egg-info
