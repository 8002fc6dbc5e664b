# The quickstart is two commands, `make demo` and `make test`; each sets up .venv first if it is missing.
# Also: `make check` (every backend against torch), `make gpu` (the CUDA tests and benchmarks), `make clean`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# torch==2.13.0 is a CPU build that lies on this machine's disk; installing it first keeps pip
# from reaching for a multi-GB CUDA build when it resolves lstmlab's "torch>=2.4".
TORCH  ?= torch==2.13.0
# Elsewhere, PyTorch's CPU index keeps the same pin to its CPU build:
#   make test TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=

.PHONY: setup demo test check gpu clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet "$(TORCH)" $(if $(TORCH_INDEX),--index-url "$(TORCH_INDEX)")
	$(PY) -m pip install --quiet -e ".[dev,forecast]"
	$(PY) -m lstmlab.kernels.lstm_cpu    # builds backend bptt's C++ loops once (~15 s); never fails setup
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/lstmlab demo --out figures

# pytest's exit code 5 means it collected no tests: that is a failure too.
test: $(STAMP)
	LSTMLAB_BENCH_SMOKE=1 $(PY) -m pytest -q --benchmark-disable -m "not slow and not hypothesis_long"; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

# On a machine with a CUDA GPU: the CUDA test matrix (every backend against cuDNN), then the gpu-quick
# and gpu-race benchmarks, written to benchmarks/results/<device>/ (JSON + table + plots, with versions).
# It uses the machine's own python3 and its torch/triton as they are — no .venv, nothing downloaded:
# lstmlab runs from a tree of links (build/gpu-tree, the working directory), kernels/ linked in as lstmlab.kernels.
GPU_PYTHON ?= python3
GPU_TREE   := build/gpu-tree
gpu:
	@$(GPU_PYTHON) -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null || { \
	  echo "make gpu: needs a CUDA GPU that torch can see; $(GPU_PYTHON) has no torch or torch.cuda.is_available() is False. Nothing was run." >&2; exit 1; }
	rm -rf $(GPU_TREE) && mkdir -p $(GPU_TREE)/lstmlab
	ln -s $(CURDIR)/lstmlab/* $(GPU_TREE)/lstmlab/ && ln -s $(CURDIR)/kernels $(GPU_TREE)/lstmlab/kernels
	cd $(GPU_TREE) && $(GPU_PYTHON) -m pytest -q -p no:cacheprovider --benchmark-disable \
	  $(CURDIR)/tests/test_cuda.py $(CURDIR)/tests/test_triton_gates.py $(CURDIR)/tests/test_lstm.py
	cd $(GPU_TREE) && $(GPU_PYTHON) -m lstmlab.cli bench --preset gpu-quick
	cd $(GPU_TREE) && $(GPU_PYTHON) -m lstmlab.cli bench --preset gpu-race

check: $(STAMP)
	$(VENV)/bin/lstmlab check

clean:
	rm -rf $(VENV) .pytest_cache .benchmarks build *.egg-info
