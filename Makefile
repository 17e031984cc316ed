# Two commands for a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO := sample_policies/demo-cluster/

.PHONY: demo test lint bench dashboard clean install

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/rbac-analyzer load -f $(DEMO)
	@echo; echo '$$ rbac-analyzer who-can get secrets -n payments -f $(DEMO)'
	@$(BIN)/rbac-analyzer who-can get secrets -n payments -f $(DEMO) 2>/dev/null
	@echo; echo '$$ rbac-analyzer can-i create pods -n payments --as system:serviceaccount:ci:deployer -f $(DEMO)'
	@$(BIN)/rbac-analyzer can-i create pods -n payments --as system:serviceaccount:ci:deployer -f $(DEMO) 2>/dev/null
	@echo; echo '$$ rbac-analyzer can-i get secrets -n kube-system --as alice@example.com -f $(DEMO)'
	@$(BIN)/rbac-analyzer can-i get secrets -n kube-system --as alice@example.com -f $(DEMO) 2>/dev/null || true
	@echo; echo '$$ rbac-analyzer what-can ServiceAccount:data/reporter -A -f $(DEMO)'
	@$(BIN)/rbac-analyzer what-can ServiceAccount:data/reporter -A -f $(DEMO) 2>/dev/null
	@echo; echo '$$ rbac-analyzer paths -f $(DEMO)        # who can escalate to cluster-admin, and how'
	@$(BIN)/rbac-analyzer paths -f $(DEMO) -o text 2>/dev/null | sed -n '1,/^$$/p'
	@echo; echo '$$ rbac-analyzer audit -f $(DEMO)        # first findings; -o html|md|json|sarif for reports'
	@$(BIN)/rbac-analyzer audit -f $(DEMO) 2>/dev/null | sed -n '1,12p'

test: $(STAMP)
	$(BIN)/python -m pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check analyzer dashboards tests benchmarks

dashboard: $(STAMP)
	$(BIN)/rbac-analyzer dashboard $(ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
