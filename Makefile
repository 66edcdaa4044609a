# Flotilla entry points. Every target that needs node_modules depends on `deps`, so each one works on a
# fresh clone. See README.md for what each does.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The project's Node line is .nvmrc. When the machine's `node` is older, scripts/node-line.sh fetches that
# exact Node from the npm registry (package node-<os>-<arch>) into ~/.cache/flotilla once, and every target
# (and npm, whose shebang finds `node` on PATH) runs on it. A machine on the line uses its own Node.
NODE_LINE_BIN := $(shell scripts/node-line.sh)
ifneq ($(.SHELLSTATUS),0)
$(error scripts/node-line.sh could not provide Node $(file <.nvmrc) (see its message above))
endif
ifneq ($(NODE_LINE_BIN),)
export PATH := $(NODE_LINE_BIN):$(PATH)
endif
NODE_OPTIONS_TEST := --experimental-vm-modules --no-warnings

.PHONY: help node deps build test lint format clean dev dev-reset synth graph openapi fuzz kind-up kind-e2e kind-down dlq redrive deploy checkov
TS_RUN := node --conditions=flotilla-source --import tsx

help: ## List the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-14s %s\n", $$1, $$2}'

node: ## Print the Node every target runs on (fetched into ~/.cache/flotilla when the machine's is older)
	@echo "node $$(node --version) at $$(command -v node), npm $$(npm --version)"

node_modules/.package-lock.json: package.json package-lock.json $(wildcard */package.json */*/package.json)
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.package-lock.json ## Install dependencies (npm ci) when the lock file changed

# The benchmarks are scripts run through tsx, not a workspace `tsc -b` builds: checked on their own.
build: deps ## Type-check and compile every workspace (tsc -b), then type-check the benchmarks
	npx tsc -b
	npx tsc -p e2e/bench/tsconfig.json

test: deps build ## Type-check, check generated docs (diagram, OpenAPI), run every test (moto tier: moto from PyPI, cached; Postgres tier: FLOTILLA_TEST_PG_URL), Checkov on dist/
	$(TS_RUN) scripts/graph.ts --check
	$(TS_RUN) scripts/openapi.ts --check
	scripts/moto.sh >/dev/null
	FLOTILLA_MOTO_SERVER="$$(scripts/moto.sh)" NODE_OPTIONS="$(NODE_OPTIONS_TEST)" npx jest $(JEST_ARGS)
	bash scripts/checkov.sh

checkov: ## Checkov on dist/ (skip list with reasons: .checkov.yaml; installs Checkov into ~/.cache/flotilla once)
	bash scripts/checkov.sh

graph: deps ## Write docs/system.md (Mermaid diagram of the system) from services/system.ts
	$(TS_RUN) scripts/graph.ts

openapi: deps ## Write docs/api/<service>.json and docs/api/public.json (OpenAPI 3.1) from the declared APIs (services/apis.ts)
	$(TS_RUN) scripts/openapi.ts

# Schemathesis (PyPI, installed once per version into ~/.cache/flotilla/schemathesis/) against the local
# stack's public document through the gateway and each service's own document on its port. FUZZ_EXAMPLES
# bounds the test cases per operation and phase.
FUZZ_EXAMPLES ?= 50
fuzz: deps ## Fuzz every API with Schemathesis against the local stack (FUZZ_EXAMPLES=50 per operation; see e2e/fuzz)
	scripts/schemathesis.sh >/dev/null
	FLOTILLA_SCHEMATHESIS="$$(scripts/schemathesis.sh)" FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(TS_RUN) e2e/fuzz/run.ts

synth: deps ## Write every environment's manifests to dist/<env>/ (cdk8s; byte-identical run to run)
	$(TS_RUN) charts-ts/src/main.ts

.PHONY: bench bench-smoke bench-docs
bench: build ## Benchmarks against same-run baselines (long; SUITES="http shop" for some): bench-results.json, docs/benchmarks.md
	$(TS_RUN) e2e/bench/run.ts $(SUITES)

bench-smoke: build ## Every benchmark suite with tiny durations: checks the harness produces every row (a few minutes)
	$(TS_RUN) e2e/bench/run.ts --smoke $(SUITES)

bench-docs: deps ## Regenerate docs/benchmarks.md and its charts from bench-results.json
	$(TS_RUN) e2e/bench/report/docs.ts bench-results.json docs/benchmarks.md

deploy: synth ## Apply dist/$(ENV)/ with flotilla deploy: make deploy ENV=dev [DEPLOY_FLAGS="--dry-run --prune ..."]
	@test -n "$(ENV)" || { echo "usage: make deploy ENV=<local|dev|prod> [DEPLOY_FLAGS=...] (applies dist/<env>/ to the current kubeconfig context)"; exit 2; }
	$(TS_RUN) platform/deploy/src/cli.ts deploy dist/$(ENV) $(DEPLOY_FLAGS)

.PHONY: conformance
conformance: synth ## Apply every dist/<env>/ to a real kube-apiserver + etcd (built once from Go modules, cached) and check refusals
	$(TS_RUN) e2e/conformance/run.ts

dlq: deps ## List dead-letter queues: depth and sample messages (local stack from .dev/stack.json, or AWS)
	$(TS_RUN) platform/runtime/src/messaging/dlq-cli.ts list

redrive: deps ## Move dead letters back to their queue: make redrive QUEUE=<queue name or service/key>
	@test -n "$(QUEUE)" || { echo "usage: make redrive QUEUE=<queue name or service/key>, e.g. QUEUE=payments/orders"; exit 2; }
	$(TS_RUN) platform/runtime/src/messaging/dlq-cli.ts redrive $(QUEUE)

kind-up: synth ## Create a kind cluster, build and load the images, apply dist/local (needs Docker, kind, kubectl)
	bash platform/kind/up.sh

kind-e2e: ## Place an order through the kind cluster's ingress and wait for PAID (after kind-up)
	bash platform/kind/e2e.sh

kind-down: ## Delete the kind cluster
	bash platform/kind/down.sh

# The OpenTelemetry Collector of the charts' distribution, built with the Collector Builder (Go) into
# ~/.cache/flotilla/otelcol/<version>/ once, then its checks: validate every dist/<env>/ collector config,
# and carry an order's trace through it (moto's server, from PyPI into ~/.cache/flotilla/moto/, as X-Ray).
.PHONY: collector-check
collector-check: deps ## Build the collector (cached), validate every emitted config, send an order's trace through it
	@command -v go >/dev/null || { echo "make collector-check needs Go (1.26 or newer) to build the collector"; exit 2; }
	$(TS_RUN) e2e/src/collector/cli.ts build
	scripts/moto.sh >/dev/null
	FLOTILLA_MOTO_SERVER="$$(scripts/moto.sh)" NODE_OPTIONS="$(NODE_OPTIONS_TEST)" npx jest --config e2e/collector/jest.config.js --verbose

lint: deps ## ESLint and Prettier
	npx eslint .
	npx prettier --check .

format: deps ## Rewrite files with Prettier
	npx prettier --write .

# The stack's process (emulator, gateway, trace sink) with a 4 MB young generation, as startStack runs each
# service (DEFAULT_SERVICE_NODE_FLAGS in platform/dev): ~25 MiB less resident while idle (issue 16).
dev: deps ## Run the whole system locally (services, SQS/SNS emulator, databases, gateway :8080, traces :4318/traces)
	node --max-semi-space-size=4 --conditions=flotilla-source --import tsx platform/dev/src/cli.ts

dev-reset: ## Wipe the local stack's data (.dev/: databases and stack.json)
	rm -rf .dev

clean: ## Remove build output, caches and local data
	rm -rf node_modules */node_modules */*/node_modules */dist */*/dist *.tsbuildinfo .dev .cache coverage
	find . -name '*.tsbuildinfo' -not -path './node_modules/*' -delete
