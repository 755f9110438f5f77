# Parley's build. Plain GNU make: every target is phony except the pinned
# tools under bin/, and each does what its name says.
#
#   make run     build the web client (when web/package.json exists) and the
#                binary, then serve on http://localhost:8080
#   make test    gofmt, go vet, staticcheck, go test -race, and the web tests;
#                first it checks that the tools they need are installed

GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)

# staticcheck 2026.2.2, which builds with and understands Go 1.26.
STATICCHECK_VERSION := v0.8.2
STATICCHECK := bin/staticcheck-$(STATICCHECK_VERSION)

# Every Go file of the project, for gofmt (go vet and go test take ./...).
GO_FILES = $(shell find . -name '*.go' -not -path './.git/*' -not -path './web/node_modules/*' -not -path './bin/*')

# Playwright is used with the system's Chromium; it must not download its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: run build web test check-prereqs web-test bench fuzz clean

run: build
	./bin/parley serve

build: web
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/parley ./cmd/parley

web:
	@if [ -f web/package.json ]; then \
		echo "cd web && npm ci && npm run build"; \
		cd web && npm ci && npm run build; \
	else \
		echo "web/package.json does not exist yet: skipping the web client build"; \
	fi

test: check-prereqs $(STATICCHECK)
	@echo "gofmt -l"
	@unformatted="$$(gofmt -l $(GO_FILES))"; \
	if [ -n "$$unformatted" ]; then \
		echo "These files are not gofmt-ed (run gofmt -w on them):"; \
		echo "$$unformatted"; \
		exit 1; \
	fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	$(GO) test -race -cover ./...
	@echo "benchmarks, once each so they never rot (make bench measures)"
	$(GO) test -run '^$$' -bench . -benchtime=1x ./...
	@if [ -f web/package.json ]; then \
		$(MAKE) web-test; \
	else \
		echo "web/package.json does not exist yet: skipping the web tests"; \
	fi

# The browser the end-to-end tests drive: PARLEY_E2E_CHROMIUM when set, else
# Debian's /usr/bin/chromium, else a chromium on the PATH.
CHROMIUM := $(or $(PARLEY_E2E_CHROMIUM),$(wildcard /usr/bin/chromium),$(shell command -v chromium 2>/dev/null))
ifneq ($(CHROMIUM),)
export PARLEY_E2E_CHROMIUM := $(CHROMIUM)
endif

# check-prereqs stops `make test` at once, naming what is missing, rather
# than after minutes of tests. `make run` needs only go, node and npm.
check-prereqs:
	@missing=""; \
	command -v $(GO) >/dev/null 2>&1 || missing="$$missing\n  go        Go 1.26 (see go.mod), e.g. in /usr/local/go, on the PATH"; \
	command -v gcc >/dev/null 2>&1 || missing="$$missing\n  gcc       for go test -race (cgo): apt-get install gcc"; \
	command -v node >/dev/null 2>&1 || missing="$$missing\n  node      Node.js 20.19 or later: apt-get install nodejs"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing\n  npm       apt-get install npm"; \
	[ -n "$(CHROMIUM)" ] && [ -x "$(CHROMIUM)" ] || missing="$$missing\n  chromium  the browser tests drive it (never downloaded): apt-get install chromium, or set PARLEY_E2E_CHROMIUM"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing\n  redis-server  the Redis tests start their own: apt-get install redis-server"; \
	command -v nginx >/dev/null 2>&1 || missing="$$missing\n  nginx     the cluster test balances replicas with it: apt-get install nginx"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing\n  initdb    PostgreSQL's server, under /usr/lib/postgresql/*/bin: apt-get install postgresql"; \
	if [ -n "$$missing" ]; then \
		printf "make test needs these, which are missing:$$missing\n" >&2; \
		printf "On Debian, as root, bash .ci/run installs them all (then runs make test).\n" >&2; \
		exit 1; \
	fi

# The web client's unit tests (Vitest), then its end-to-end tests (Playwright
# in Debian's Chromium, against a parley built from this tree).
web-test:
	@if [ -f web/package.json ]; then \
		echo "cd web && npm ci && npm test && npm run e2e"; \
		cd web && npm ci && npm test && npm run e2e; \
	else \
		echo "web/package.json does not exist yet: skipping the web tests"; \
	fi

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeFrame$$' -fuzztime 30s ./protocol

clean:
	rm -rf bin
	find web/dist -mindepth 1 -not -name .gitkeep -delete

$(STATICCHECK):
	GOBIN="$(CURDIR)/bin" $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv bin/staticcheck $@
