# The two commands of README.md: `make demo` (set up + a real answer) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
QUESTION ?= 日本の首都はどこですか？

.PHONY: setup setup-test system-packages demo test test-fast lint bench bench-engine bench-round eval llama-tools clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# llama-cpp-python builds from source on the first install (~15 min on 2 cores); pip
# caches the wheel, so later installs take seconds.
$(VENV)/.setup: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e '.[models,rag]'
	touch $@

$(VENV)/.setup-test: pyproject.toml $(VENV)/.setup | system-packages
	$(BIN)/pip install -e '.[models,dev,hf,eval,rag,serve,redis,ray]'
	touch $@

# Debian tools the tests run for real: promtool and amtool check deploy/, chromium shows the
# live page to Playwright (never `playwright install`), redis-server holds the shared
# blackboard (the tests start their own on a free loopback port).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
system-packages:
	@command -v promtool >/dev/null && command -v amtool >/dev/null \
		&& command -v chromium >/dev/null && command -v redis-server >/dev/null || { \
		$(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
			prometheus prometheus-alertmanager chromium redis-server; }

setup: $(VENV)/.setup

setup-test: $(VENV)/.setup-test

demo: setup
	$(BIN)/murmurnet models --prepare qwen2.5-0.5b gemma-3-270m
	$(BIN)/murmurnet ask "$(QUESTION)" --agents 2 --iterations 1 --debug

lint: setup-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/murmurnet models --prepare qwen2.5-0.5b gemma-3-270m
	$(BIN)/pytest -q --durations=15

# Everyday work: the unit tests only (scripted fake backend, no model; under a minute).
test-fast: setup-test
	$(BIN)/pytest -q tests/unit

bench: setup
	$(BIN)/python benchmarks/bench_ask.py

bench-engine: setup
	$(BIN)/python benchmarks/bench_engine.py

# A 4-agent round of the real pipeline against a bare low-level batched loop (same shape).
bench-round: setup
	$(BIN)/murmurnet models --prepare qwen2.5-0.5b
	$(BIN)/python benchmarks/bench_round.py

# Answer quality, the main comparison: the default murmur against the plain baseline (the
# same model asked the question plainly), pooled over the 900 rows of the three dev300 files,
# run in 40-row slices that alternate kinds (benchmarks/dev900_slices.sh). About 8 hours on
# 2 cores; it resumes where it stopped. The report is in $(EVAL_OUT)/report.md.
EVAL_DATA ?= ../shared/eval
EVAL_OUT ?= benchmarks/results/eval-dev900
eval: setup-test
	$(BIN)/murmurnet models --prepare qwen2.5-0.5b gemma-3-270m
	mkdir -p build && benchmarks/dev900_slices.sh $(EVAL_DATA) build/dev900 > build/dev900.list
	$(BIN)/murmurnet eval $$(cat build/dev900.list) --strategies plain,murmur --out $(EVAL_OUT)

# Optional: llama-server and llama-batched-bench from the llama.cpp source vendored in the
# llama-cpp-python sdist, for the side-by-side engine benchmark (~10 min on 2 cores).
LLAMA_SRC := build/sdist/llama_cpp_python-0.3.36/vendor/llama.cpp
llama-tools: setup
	mkdir -p build/sdist
	test -d $(LLAMA_SRC) || ( $(BIN)/pip download --no-deps --no-binary :all: \
		llama-cpp-python==0.3.36 -d build/sdist && \
		tar -xzf build/sdist/llama_cpp_python-0.3.36.tar.gz -C build/sdist )
	cmake -S $(LLAMA_SRC) -B build/llama.cpp -DCMAKE_BUILD_TYPE=Release -DLLAMA_OPENSSL=OFF \
		-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
	cmake --build build/llama.cpp --target llama-server llama-batched-bench -j 2

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
