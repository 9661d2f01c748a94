# Every target that needs Python creates .venv on first use.
PYTHON ?= python3
VENV ?= .venv
# torch first, pinned, so pip takes the CPU build on disk instead of fetching a CUDA build.
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SHIPPED := namecls/models/default.pt

.PHONY: install data demo test eval model lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

data:
	$(PYTHON) scripts/fetch_data.py

demo: install
	$(BIN)/namecls predict Satoshi

test: install data
	$(BIN)/python -m pytest

eval: install data
	$(BIN)/python scripts/check_eval.py --model $(SHIPPED)

model: install data
	$(BIN)/namecls train --out $(SHIPPED) --device cpu

lint: install
	$(BIN)/ruff check namecls tests scripts
	$(BIN)/ruff format --check namecls tests scripts

bench: install data
	$(BIN)/python -m pip install -q -e ".[bench]"
	$(BIN)/python scripts/benchmark_accuracy.py --out out/benchmark_accuracy.md

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache build *.egg-info
