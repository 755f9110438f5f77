# Parley's build. Plain GNU make: every target is phony except the pinned
# tools under bin/, and each does what its name says.
#
#   make run     build the web client (when web/package.json exists) and the
#                binary, then serve on http://localhost:8080
#   make test    gofmt, go vet, staticcheck, go test -race, and the web tests

GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)

# staticcheck 2026.2.2, which builds with and understands Go 1.26.
STATICCHECK_VERSION := v0.8.2
STATICCHECK := bin/staticcheck-$(STATICCHECK_VERSION)

# Every Go file of the project, for gofmt (go vet and go test take ./...).
GO_FILES = $(shell find . -name '*.go' -not -path './.git/*' -not -path './web/node_modules/*' -not -path './bin/*')

# Playwright is used with the system's Chromium; it must not download its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: run build web test web-test bench fuzz clean

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

test: $(STATICCHECK)
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
