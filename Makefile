# Serverless platform kit. `make help` lists every target.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

ENV ?= local
# The Lambda runtime's Python, or the nearest one this machine has.
PYTHON ?= $(firstword $(foreach p,python3.12 $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) python3.13 $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13) python3,$(shell $(p) -c 'import sys; print("$(p)") if sys.version_info >= (3, 12) else None' 2>/dev/null)))
VENV := .venv
VENV_STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PY := $(VENV)/bin/python
TF := tools/terraform/tf
PYTEST_ARGS ?=
# Test processes. Most of a test's time is Terraform and the emulators waiting (an SQS queue
# alone costs ~25 s of the provider's waiter), so more workers than cores pay off. Tests that
# share one emulator stack carry an xdist_group and run together in one worker.
JOBS ?= 4

export PYTHONPATH := services:shared:.
export ARTILLERY_DISABLE_TELEMETRY := true

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo
	@echo "  Variables: ENV=$(ENV) (local|dev|staging|prod)  JOBS=$(JOBS)  PYTEST_ARGS='...'"
	@echo "             EMULATOR_PORT=4566  TF_PROVIDER_MIRROR=<dir|off>"

# The virtualenv is rebuilt whenever pyproject.toml changes.
$(VENV_STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python >= 3.12 not found; set PYTHON=/path/to/python3.12" >&2; exit 2; }
	@echo "==> creating $(VENV) with $(PYTHON)"
	@rm -rf $(VENV) && $(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/pip install --quiet --upgrade pip 2>&1 | { grep -v 'is ignored: it is neither' || true; }
	@$(VENV)/bin/pip install --quiet -e '.[dev]' 2>&1 | { grep -v -e 'is ignored: it is neither' -e BuildBackendWarning || true; }
	@touch $@

.PHONY: venv
venv: $(VENV_STAMP) ## Create or refresh the development virtualenv

# Tests marked `alone` (artillery at 1,000 req/s) need the machine to themselves: they run
# after the parallel suite. A PYTEST_ARGS that selects none of them is not a failure.
.PHONY: test
test: $(VENV_STAMP) ## Run every test: unit, terraform, emulator apply, end to end, then the 1,000 req/s load test (JOBS=4)
	@$(PY) -m pytest -n $(JOBS) --dist loadgroup --durations=15 -m "not alone" $(PYTEST_ARGS)
	@$(PY) -m pytest -m alone $(PYTEST_ARGS) || { rc=$$?; [ $$rc -eq 5 ] && [ -n "$(PYTEST_ARGS)" ] || exit $$rc; }

.PHONY: test-unit
test-unit: $(VENV_STAMP) ## Run only the fast Python unit tests
	@$(PY) -m pytest tests/unit $(PYTEST_ARGS)

.PHONY: lint
lint: $(VENV_STAMP) ## ruff and terraform fmt -check
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(TF) fmt -check -recursive terraform tests/support/overrides

.PHONY: fmt
fmt: $(VENV_STAMP) ## Format Python and Terraform in place
	@$(VENV)/bin/ruff check --fix .
	@$(VENV)/bin/ruff format .
	@$(TF) fmt -recursive terraform tests/support/overrides

.PHONY: validate
validate: $(VENV_STAMP) ## terraform validate every module, example, stack and environment root
	@$(PY) -m tools.terraform.roots validate

.PHONY: docs
docs: $(VENV_STAMP) ## Regenerate module README tables and the OpenAPI document
	@$(PY) -m tools.docs.terraform_tables --write
	@$(PY) -m tools.docs.openapi --write

.PHONY: openapi
openapi: $(VENV_STAMP) ## Regenerate docs/api/orders.openapi.json from the code
	@$(PY) -m tools.docs.openapi --write

# --- Build and benchmarks ------------------------------------------------------

.PHONY: build
build: $(VENV_STAMP) ## Build function zips + layer for arm64 (AWS) and x86_64 (local) into dist/
	@for arch in arm64 x86_64; do echo "==> build $$arch"; $(PY) -m tools.release.build --arch $$arch; done

.PHONY: bench
bench: $(VENV_STAMP) ## Print cold-init (vs floor) and warm-overhead figures of every function
	@$(PY) -m tools.bench.functions

.PHONY: bench-up
bench-up: $(VENV_STAMP) ## Print how long make up takes from nothing and again, and an order's round trip
	@$(PY) -m tools.bench.local_stack

.PHONY: bench-build
bench-build: $(VENV_STAMP) ## Print clean-build, no-op rebuild and artifact-size figures
	@$(PY) -m tools.bench.build

.PHONY: iam-check
iam-check: $(VENV_STAMP) ## Per role: the calls the last test session recorded, allowed or denied by the policies as deployed, and unused grants
	@$(PY) -m tools.iam.check

.PHONY: checkov
checkov: ## Static security analysis of terraform/ with checkov
	@$(PY) -m tools.terraform.checkov

# --- Environments (terraform/environments/<ENV>) -----------------------------

.PHONY: envs
envs: $(VENV_STAMP) ## List the valid ENV names: environments, then bootstrap-<account>
	@$(PY) -m tools.release.deploy list

.PHONY: init
init: $(VENV_STAMP) ## terraform init ENV (dev|staging|prod|bootstrap-<account>) with its backend config
	@$(PY) -m tools.release.deploy init --env "$(ENV)"

.PHONY: plan
plan: $(VENV_STAMP) ## Plan ENV into .local/plans/ENV.tfplan
	@$(PY) -m tools.release.deploy plan --env "$(ENV)"

.PHONY: apply
apply: $(VENV_STAMP) ## Apply exactly the saved plan of ENV (prod needs CONFIRM=prod)
	@$(PY) -m tools.release.deploy apply --env "$(ENV)" --confirm "$(CONFIRM)"

.PHONY: destroy
destroy: $(VENV_STAMP) ## Destroy ENV (prod needs CONFIRM=prod)
	@$(PY) -m tools.release.deploy destroy --env "$(ENV)" --confirm "$(CONFIRM)"

.PHONY: publish
publish: $(VENV_STAMP) ## Upload the arm64 build (or MANIFEST=...) to dev's artifact bucket and pin it in its release.json
	@$(PY) -m tools.release.artifacts publish --env "$(ENV)" $(if $(MANIFEST),--manifest "$(MANIFEST)")

.PHONY: promote
promote: $(VENV_STAMP) ## Pin what FROM runs in TO (copying the bytes), then plan TO
	@test -n "$(FROM)" -a -n "$(TO)" || { echo "usage: make promote FROM=staging TO=prod" >&2; exit 2; }
	@$(PY) -m tools.release.artifacts promote --from $(FROM) --to $(TO)

.PHONY: deploy
deploy: $(VENV_STAMP) ## Apply ENV's saved plan, then CodeDeploy shifts each function to its new version: hook, canary/linear, rollback on alarm (prod needs CONFIRM=prod)
	@$(PY) -m tools.release.canary deploy --env "$(ENV)" $(if $(CONFIRM),--confirm "$(CONFIRM)")

.PHONY: rollback
rollback: $(VENV_STAMP) ## Stop ENV's running deployment of FUNCTION with rollback, or return its live alias to the previous version [VERSION=n]
	@test -n "$(FUNCTION)" || { echo "usage: make rollback ENV=prod FUNCTION=orders_api [VERSION=6]" >&2; exit 2; }
	@$(PY) -m tools.release.canary rollback --env "$(ENV)" --function "$(FUNCTION)" $(if $(VERSION),--version "$(VERSION)")

# --- Operating an environment ------------------------------------------------

.PHONY: dashboard
dashboard: $(VENV_STAMP) ## Print the console URL of ENV's CloudWatch dashboard
	@$(PY) -m tools.ops.dashboard --env "$(ENV)"

.PHONY: capacity
capacity: $(VENV_STAMP) ## Plan ENV at RPS req/s against its settings and AWS quotas; exit 1 names the first bottleneck [DURATION= RAMP= RUN=dir|last]
	@test -n "$(RPS)" || { echo "usage: make capacity ENV=staging RPS=1000 [DURATION=s RAMP=s RUN=<load run dir>|last]" >&2; exit 2; }
	@$(PY) -m tools.ops.capacity --env "$(ENV)" --rps "$(RPS)" $(if $(DURATION),--duration $(DURATION)) $(if $(RAMP),--ramp $(RAMP)) $(if $(RUN),--run $(RUN)) $(if $(PROFILE),--profile $(PROFILE))

.PHONY: token
# USER is in every shell's environment: only a USER= on the command line names a customer.
token: $(VENV_STAMP) ## Print an access token of ENV's user pool for USER=<seeded customer id>, or ADMIN=1 (orders/admin); use make -s
	@$(PY) -m tools.ops.token --env "$(ENV)" $(if $(ADMIN),--admin,$(if $(filter command line,$(origin USER)),--user "$(USER)"))

.PHONY: seed
seed: $(VENV_STAMP) ## Seed ENV for a load test: stock the run cannot exhaust, mailbox-simulator customers [PROFILE=env RATE= DURATION= RAMP=]
	@$(PY) -m tools.ops.seed --env "$(ENV)" $(if $(PROFILE),--profile $(PROFILE)) $(if $(RATE),--rate $(RATE)) $(if $(DURATION),--duration $(DURATION)) $(if $(RAMP),--ramp $(RAMP))

.PHONY: dlq
dlq: $(VENV_STAMP) ## ENV's dead-letter queues: depth, oldest message, a sample with order ids and logged failures [SAMPLE=n]
	@$(PY) -m tools.ops.dead_letters list --env "$(ENV)" $(if $(SAMPLE),--sample $(SAMPLE))

.PHONY: redrive
redrive: $(VENV_STAMP) ## Move QUEUE's dead letters (orders|notifications) back to its source queue [LIMIT=n ORDER=<order id> DRY_RUN=1]
	@test -n "$(QUEUE)" || { echo "usage: make redrive ENV=<env> QUEUE=orders|notifications [LIMIT=n ORDER=<order id> DRY_RUN=1]" >&2; exit 2; }
	@$(PY) -m tools.ops.dead_letters redrive --env "$(ENV)" --queue "$(QUEUE)" $(if $(LIMIT),--limit $(LIMIT)) $(if $(ORDER),--order-id "$(ORDER)") $(if $(DRY_RUN),--dry-run)

.PHONY: cost
cost: $(VENV_STAMP) ## Monthly cost of ENV per component, total and per 1,000 orders, from its real settings [RPS=req/s HOURS=h/day FREE_TIER=1]
	@$(PY) -m tools.cost --env "$(ENV)" $(if $(RPS),--rps $(RPS)) $(if $(HOURS),--hours $(HOURS)) $(if $(FREE_TIER),--free-tier)

.PHONY: cost-prices
cost-prices: $(VENV_STAMP) ## Refresh tools/cost/data/prices-REGION.json from the AWS Price List API (needs AWS credentials)
	@test -n "$(REGION)" || { echo "usage: make cost-prices REGION=eu-west-1" >&2; exit 2; }
	@$(PY) -m tools.cost.prices --region "$(REGION)"

.PHONY: cost-measure
cost-measure: $(VENV_STAMP) ## Measure one order's AWS calls, capacity units and log bytes through the handlers (tools/cost/data/measured.json)
	@COST_MEASURE_WRITE=1 $(PY) -m pytest -q tests/unit/test_calls_per_order.py

# --- Local stack (the embedded default: no AWS account, no Docker) -----------

.PHONY: up
up: $(VENV_STAMP) ## Start the emulator, build, apply terraform/environments/local, seed, smoke-check
	@$(PY) -m tools.local.stack up

.PHONY: down
down: $(VENV_STAMP) ## Stop the emulator `make up` started (its state is in memory and goes with it)
	@$(PY) -m tools.local.stack down

.PHONY: status
status: $(VENV_STAMP) ## Is the emulator running and does the local API answer?
	@$(PY) -m tools.local.stack status

.PHONY: logs
logs: $(VENV_STAMP) ## Function logs of the local stack (FOLLOW=1 to follow)
	@$(PY) -m tools.local.stack logs $(if $(FOLLOW),--follow)

# --- Fuzzing (tools/fuzz/: schemathesis from docs/api/orders.openapi.json) -------

.PHONY: fuzz
fuzz: $(VENV_STAMP) ## Fuzz the local stack's API from its OpenAPI document, signed in [MAX_EXAMPLES=100 MAX_TIME=120 SEED=n URL=... CUSTOMER=id TOKEN=...]
	@$(PY) -m tools.fuzz $(if $(MAX_EXAMPLES),--max-examples $(MAX_EXAMPLES)) $(if $(MAX_TIME),--max-time $(MAX_TIME)) \
		$(if $(SEED),--seed $(SEED)) $(if $(URL),--url $(URL)) $(if $(CUSTOMER),--customer $(CUSTOMER)) $(if $(TOKEN),--token $(TOKEN))

# --- Load test (loadtest/, tools/loadtest/; artillery runs with telemetry off) ---

LOADTEST_ARGS = --env $(ENV) $(if $(RATE),--rate $(RATE)) $(if $(DURATION),--duration $(DURATION)) $(if $(RAMP),--ramp $(RAMP)) \
	$(if $(P99),--p99 $(P99)) $(if $(MAX_ERROR_RATE),--max-error-rate $(MAX_ERROR_RATE)) \
	$(if $(TARGET),--target $(TARGET)) $(if $(DRY_RUN),--dry-run)

.PHONY: loadtest
loadtest: $(VENV_STAMP) ## Load-test ENV (local: the `make up` stack) [RATE=req/s DURATION=s RAMP=s WARMUP=s P99=ms MAX_ERROR_RATE=% TARGET=url FAULTS=1 FAULT_SEED=n]
	@$(PY) -m tools.loadtest $(LOADTEST_ARGS) $(if $(WARMUP),--warmup $(WARMUP)) \
		$(if $(FAULTS),--faults) $(if $(FAULT_SEED),--fault-seed $(FAULT_SEED))

.PHONY: reconcile
reconcile: $(VENV_STAMP) ## Reconcile the orders of earlier load runs again: RUNS="<run dir> ..." (one per load generator)
	@test -n "$(RUNS)" || { echo "usage: make reconcile ENV=staging RUNS=\".local/loadtest/<run> ...\"" >&2; exit 2; }
	@$(PY) -m tools.loadtest reconcile $(RUNS) --env $(ENV) $(if $(TARGET),--target $(TARGET)) $(if $(WAIT),--reconcile-wait $(WAIT))

.PHONY: loadtest-compare
loadtest-compare: $(VENV_STAMP) ## Two load runs side by side, on the terminal and as one HTML page: A=<run dir|name|previous> B=<run|last>
	@test -n "$(A)" -a -n "$(B)" || { echo "usage: make loadtest-compare A=<run> B=<run>   (run directories, names in .local/loadtest, previous, last)" >&2; exit 2; }
	@$(PY) -m tools.loadtest.compare "$(A)" "$(B)"

.PHONY: loadtest-distributed
loadtest-distributed: $(VENV_STAMP) ## Load-test ENV from AWS: artillery run-fargate|run-lambda [MODE=fargate|lambda COUNT=n REGION=r DRY_RUN=1]
	@$(PY) -m tools.loadtest $(LOADTEST_ARGS) --distributed $(or $(MODE),fargate) --count $(or $(COUNT),2) $(if $(REGION),--region $(REGION))

.PHONY: clean
clean: ## Stop the local stack; remove build output, local state and caches (keeps virtualenvs)
	@if [ -x $(PY) ]; then $(PY) -m tools.local.stack clean; fi
	rm -rf dist .local/plans .local/bench .local/loadtest .pytest_cache .ruff_cache
	find . -name .terraform -type d -prune -exec rm -rf {} +
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

.PHONY: distclean
distclean: clean ## clean, and remove every virtualenv and npm install too
	rm -rf $(VENV) .local loadtest/node_modules
