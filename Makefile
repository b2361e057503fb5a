# Two commands do all the set-up: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PLUGIN_DIRS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))
STAMP := $(VENV)/.installed
# The ONNX Runtime flavour the environment ends with: onnxruntime-openvino carries the CPU
# provider (for CPU) and the OpenVINO provider (for OPENVINO).  Flavours replace each other's
# onnxruntime module, so exactly one may be installed; see plugins/ovlite-openvino/README.md.
ONNXRUNTIME := onnxruntime-openvino==1.24.1

.PHONY: install demo test lint clean

install: $(STAMP)

# Reinstall when any pyproject changes; editable installs pick up code changes by themselves.
# Each plugin comes with its `test` extra (ovlite-serve: tritonclient[http] for its tests).
# rapidocr-onnxruntime carries the OCR example's trained model; --no-deps keeps OpenCV out.
# ovlite-cpu requires `onnxruntime`, so pip (re)installs plain onnxruntime whenever it is
# missing by that name; `onnxruntime_install use` then uninstalls every flavour and installs
# $(ONNXRUNTIME) alone (it does nothing when that is already the one, whole flavour).
# perf_analyzer_install puts Triton's perf_analyzer in $(VENV)/bin when it can (best effort:
# it says why not, and the tests that need it skip).
$(STAMP): pyproject.toml $(wildcard plugins/*/pyproject.toml)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "ovlite needs Python >= 3.11; set PYTHON=python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet --no-build-isolation -e ".[test]" $(foreach d,$(PLUGIN_DIRS),-e "$(d:%/=%)[test]")
	$(BIN)/python -m ovlite.onnxruntime_install use $(ONNXRUNTIME)
	$(BIN)/python -m pip install --quiet --no-deps rapidocr-onnxruntime==1.4.4
	$(BIN)/python -m ovlite.onnxruntime_install
	-$(BIN)/python -m ovlite_serve.perf_analyzer_install
	touch $(STAMP)

# The main job: the built-in ResNet-18-shaped CNN with the THROUGHPUT hint on AUTO, then the
# devices side by side: AUTO times CPU and OPENVINO.CPU on the model and serves from the faster.
demo: install
	$(BIN)/ovlite benchmark -m resnet18 -d AUTO -hint throughput -t 10
	$(BIN)/ovlite benchmark -m resnet18 -hint throughput -t 8 --compare CPU OPENVINO.CPU AUTO

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/python -m pip install --quiet ruff
	$(BIN)/ruff check ovlite plugins tests examples benchmarks
	$(BIN)/ruff format --check ovlite plugins tests examples benchmarks

clean:
	rm -rf $(VENV) build dist *.egg-info
