# SecuMon v2: `make run` starts the service with its embedded PostgreSQL; `make test` runs
# every test against real components. Both install the Debian packages they miss first; only
# `make lint` and `make generate` need Node and npm.

SHELL := /bin/bash
GO ?= go
# Debian packages the service and its tests need: the PostgreSQL server binaries, snmpd for
# the SNMP probe tests, Chromium for the rendered-docs and status-page browser tests, and curl
# and jq for the README walkthrough the tests run, iproute2 (`ip`) for the location test's
# network namespace (server/locations_netns_test.go).
DEB_PACKAGES := postgresql snmpd chromium curl jq iproute2
NODE_MODULES := openapi/node_modules/.package-lock.json
BIN := bin/secumon
# `make run` listens on SECUMON_ADDR (default 127.0.0.1:8080); `make run ADDR=host:port` too.
ADDR ?=
SYSLOG_ADDR ?= 127.0.0.1:5514
# What `make generate` writes; check-generated compares it with the checkout.
GENERATED := gen client openapi/docs

.PHONY: all build run test test-go bench generate check-generated lint vet spectral ts-client deps deb-deps npm-deps clean

all: build

## build: the secumon binary, in $(BIN).
build:
	@echo "building secumon ($(BIN)) — the first build takes a few minutes…"
	$(GO) build -o $(BIN) ./cmd/secumon

## deps: install the missing Debian packages (as root) and the pinned npm tools.
deps: deb-deps npm-deps

deb-deps:
	@missing=""; \
	for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "missing Debian packages:$$missing — run: sudo apt-get install -y$$missing" >&2; exit 1; \
	  fi; \
	fi

npm-deps: $(NODE_MODULES)

$(NODE_MODULES): openapi/package.json openapi/package-lock.json
	cd openapi && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## run: build and start SecuMon on $SECUMON_ADDR or $(ADDR) (default 127.0.0.1:8080) with its
## embedded PostgreSQL in ./.secumon (syslog on $(SYSLOG_ADDR)). exec: Ctrl-C reaches the
## server directly, which shuts down cleanly and exits 0. Webhooks may reach loopback receivers
## (SECUMON_NOTIFY_ALLOW, unless set otherwise) for demos.
run: DEB_PACKAGES := postgresql
run: deb-deps build
	SECUMON_SYSLOG_ADDR=$${SECUMON_SYSLOG_ADDR-$(SYSLOG_ADDR)} SECUMON_NOTIFY_ALLOW=$${SECUMON_NOTIFY_ALLOW-127.0.0.0/8,::1/128} $(if $(ADDR),SECUMON_ADDR=$(ADDR) )exec $(BIN) serve

## test: every Go test, against a real PostgreSQL, snmpd and Chromium (no Node or npm needed).
test: deb-deps
	$(GO) test -count=1 -timeout 20m ./...

## bench: throughput of the full stack beside a bare handler, printed with their ratio, and the
## scheduler of the real `secumon serve` (embedded PostgreSQL) over 10,000 and 20,000 HTTP checks at 10 s
## (SECUMON_BENCH_SERVE=10k,10k+read,20k,20k+paused picks scenarios; SECUMON_BENCH_PPROF=dir, SECUMON_BENCH_PGSS=1|dir).
bench: DEB_PACKAGES := postgresql
bench: deb-deps
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./server/bench/

## generate: regenerate everything generated (server, client, queries, docs bundle).
generate: $(NODE_MODULES)
	$(GO) generate ./gen/... ./client/...
	cp openapi/node_modules/redoc/bundles/redoc.standalone.js openapi/docs/redoc.standalone.js

## check-generated: fail when regenerating changes a committed file.
check-generated: generate
	@untracked="$$(git ls-files --others --exclude-standard -- $(GENERATED))"; \
	if ! git diff --quiet -- $(GENERATED) || [ -n "$$untracked" ]; then \
	  git diff --stat -- $(GENERATED); echo "$$untracked"; \
	  echo "generated code is stale: run 'make generate' and commit the result" >&2; exit 1; \
	fi

## lint: the OpenAPI documents (Redocly, zero errors; Spectral + OWASP on the request side),
## a TypeScript client generated from the contract type-checked, and go vet.
lint: $(NODE_MODULES) vet spectral ts-client
	cd openapi && npx --no-install redocly lint --config redocly.yaml secumon.yaml status-public.yaml ping.yaml

# Scratch output of the npm tools (git-ignored).
LINT_OUT := openapi/.lint-out

## spectral: spectral:oas + the OWASP ruleset (openapi/.spectral.yaml). An error on the request
## side of secumon.yaml (parameters, request bodies, the schemas they reach) that is not in
## openapi/spectral-allowlist.txt fails; response-side findings are printed as warnings.
spectral: $(NODE_MODULES)
	@mkdir -p $(LINT_OUT)
	@# Spectral exits 1 when it finds errors (judged below) and 2 when it cannot run.
	cd openapi && { npx --no-install spectral lint --ruleset .spectral.yaml --format json --quiet \
	  --output .lint-out/spectral.json secumon.yaml; rc=$$?; [ $$rc -le 1 ]; }
	cd openapi && $(GO) run ./lintgate spectral -spec secumon.yaml -allow spectral-allowlist.txt .lint-out/spectral.json

## ts-client: a client nobody here wrote: openapi-typescript (default options) + openapi-fetch,
## and tsc on openapi/ts-client-test/main.ts, which calls the API as the README does. Errors not
## in openapi/ts-client-test/KNOWN_GAPS fail.
ts-client: $(NODE_MODULES)
	@mkdir -p $(LINT_OUT)
	@# Run from ts-client-test/: openapi-typescript would otherwise apply openapi/redocly.yaml.
	cd openapi/ts-client-test && ../node_modules/.bin/openapi-typescript ../secumon.yaml -o ../.lint-out/secumon.d.ts
	cd openapi/ts-client-test && { ../node_modules/.bin/tsc --pretty false -p . > ../.lint-out/tsc.out; \
	  rc=$$?; [ $$rc -le 2 ] || cat ../.lint-out/tsc.out; [ $$rc -le 2 ]; }
	cd openapi && $(GO) run ./lintgate tsc -known ts-client-test/KNOWN_GAPS .lint-out/tsc.out

vet:
	$(GO) vet ./...

clean:
	rm -rf bin
