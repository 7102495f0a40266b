# SecuMon v2: `make run` starts the service with its embedded PostgreSQL; `make test` runs
# every test against real components. Both install what is missing first.

SHELL := /bin/bash
GO ?= go
# Debian packages the service and its tests need: the PostgreSQL server binaries, snmpd for
# the SNMP probe tests and Chromium for the rendered-docs and status-page browser tests.
DEB_PACKAGES := postgresql snmpd chromium
NODE_MODULES := openapi/node_modules/.package-lock.json
ADDR ?= 127.0.0.1:8080
SYSLOG_ADDR ?= 127.0.0.1:5514
# What `make generate` writes; check-generated compares it with the checkout.
GENERATED := gen client openapi/docs

.PHONY: all build run test test-go bench generate check-generated lint vet deps deb-deps npm-deps clean

all: build

build:
	$(GO) build -o bin/secumon ./cmd/secumon

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

## run: start SecuMon on $(ADDR) with its embedded PostgreSQL in ./.secumon (syslog on $(SYSLOG_ADDR)).
run: DEB_PACKAGES := postgresql
run: deb-deps
	SECUMON_SYSLOG_ADDR=$${SECUMON_SYSLOG_ADDR-$(SYSLOG_ADDR)} $(GO) run ./cmd/secumon serve --addr $(ADDR)

## test: every Go test, against a real PostgreSQL, snmpd and Chromium.
test: deps
	$(GO) test -count=1 -timeout 20m ./...

## bench: throughput of the full stack beside a bare handler, printed with their ratio.
bench: DEB_PACKAGES := postgresql
bench: deb-deps
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 20m ./server/bench/

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

## lint: the OpenAPI documents (Redocly, zero errors) and go vet.
lint: $(NODE_MODULES) vet
	cd openapi && npx --no-install redocly lint --config redocly.yaml secumon.yaml status-public.yaml

vet:
	$(GO) vet ./...

clean:
	rm -rf bin
