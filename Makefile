# Parley's build. Plain GNU make: every target is phony except the pinned
# tools under bin/, and each does what its name says.
#
#   make run     build the web client (when web/package.json exists) and the
#                binary, then serve on http://localhost:8080
#   make test    gofmt, go vet, staticcheck, go test -race, the web tests,
#                the deployment files' checks and the container image's test;
#                first it checks that the tools they need are installed
#   make image   build the container image (docker when its engine answers,
#                else podman)

GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)

# staticcheck 2026.2.2, which builds with and understands Go 1.26.
STATICCHECK_VERSION := v0.8.2
STATICCHECK := bin/staticcheck-$(STATICCHECK_VERSION)

# Every Go file of the project, for gofmt (go vet and go test take ./...).
GO_FILES = $(shell find . -name '*.go' -not -path './.git/*' -not -path './web/node_modules/*' -not -path './bin/*')

# Playwright is used with the system's Chromium; it must not download its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

# The container image: its name, and the program that builds it (docker
# when its engine answers, else podman).
IMAGE ?= parley:$(VERSION)
CONTAINER ?= $(shell if docker info >/dev/null 2>&1; then echo docker; elif command -v podman >/dev/null 2>&1; then echo podman; fi)
# podman as root on machines without systemd (these, and CI).
PODMAN := podman --runtime runc --cgroup-manager cgroupfs

.PHONY: run build web test check-prereqs web-test bench fuzz clean image image-test deploy-check

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
	$(MAKE) deploy-check
	$(MAKE) image-test

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
	if [ -n "$$CI" ]; then \
		command -v podman >/dev/null 2>&1 || missing="$$missing\n  podman    make image-test runs the image with it (skipped without it, but not in CI): apt-get install podman runc"; \
		command -v runc >/dev/null 2>&1 || missing="$$missing\n  runc      podman's runtime here: apt-get install runc"; \
		command -v docker-compose >/dev/null 2>&1 || missing="$$missing\n  docker-compose  make deploy-check checks the Compose files with it: apt-get install docker-compose"; \
	fi; \
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

# The container image, built from the Dockerfile: the web client, then the
# static binary, then the final stage that holds it alone. podman needs the
# docker format for HEALTHCHECK, and BINARY_FROM given (it chooses the
# stages to build before it reads the ARG's default).
image:
	@if [ -z "$(CONTAINER)" ]; then \
		echo "make image needs docker (with its engine running) or podman"; exit 1; \
	fi
	@echo "building $(IMAGE) with $(CONTAINER)"
	$(CONTAINER) build $(if $(filter podman,$(CONTAINER)),--format docker) --build-arg BINARY_FROM=build --build-arg VERSION=$(VERSION) -t $(IMAGE) .
	@echo "$(IMAGE) (built with $(CONTAINER)): $$($(CONTAINER) image inspect --format '{{.Size}}' $(IMAGE)) bytes"

# The image test: the Dockerfile's final stage with a static binary built
# here (the build stages need public base images, which CI cannot pull),
# run with podman by the Go test in deploy/ (deploy/image_test.go). The
# image is removed afterwards, whatever happens; the test removes its
# containers and volumes. Without podman it is skipped, except under CI,
# where .ci/run installs it.
image-test:
	@if ! command -v podman >/dev/null 2>&1; then \
		if [ -n "$$CI" ]; then echo "make image-test: podman is not installed, and CI is set (.ci/run installs it)"; exit 1; fi; \
		echo "podman is not installed (Debian: apt-get install podman runc): skipping the image test"; exit 0; \
	fi; \
	set -e; \
	rm -rf bin/image; mkdir -p bin/image/data bin/image/etc/ssl/certs; \
	cp /etc/ssl/certs/ca-certificates.crt bin/image/etc/ssl/certs/; \
	echo "CGO_ENABLED=0 $(GO) build -trimpath -tags timetzdata -ldflags \"-s -w -X main.version=$(VERSION)\" -o bin/image/parley ./cmd/parley"; \
	CGO_ENABLED=0 $(GO) build -trimpath -tags timetzdata -ldflags "-s -w -X main.version=$(VERSION)" -o bin/image/parley ./cmd/parley; \
	tag=localhost/parley-image-test:$$$$; \
	trap '$(PODMAN) rmi --force '$$tag' >/dev/null 2>&1 || true' EXIT; \
	echo "$(PODMAN) build --layers=false --format docker --build-arg BINARY_FROM=prebuilt --build-arg VERSION=$(VERSION) -t $$tag ."; \
	$(PODMAN) build --quiet --layers=false --format docker --build-arg BINARY_FROM=prebuilt --build-arg VERSION=$(VERSION) -t $$tag .; \
	PARLEY_TEST_IMAGE=$$tag $(GO) test -count=1 -v -run '^TestImage$$' ./deploy

# The deployment files, checked without running them: both Compose files
# by docker-compose (with .env.example as their .env), the Dockerfile by a
# pinned linter, and the Kubernetes manifests by their own module's test,
# which decodes them with the Kubernetes API types. Without docker-compose
# the Compose files are skipped, except under CI.
deploy-check: $(STATICCHECK)
	@if command -v docker-compose >/dev/null 2>&1; then \
		set -e; dir=$$(mktemp -d); trap 'rm -rf '$$dir EXIT; cp .env.example $$dir/.env; \
		for f in compose.yaml compose.laptop.yaml; do \
			echo "docker-compose -f $$f config -q"; \
			docker-compose --project-directory $$dir -f $$f config -q; \
		done; \
	elif [ -n "$$CI" ]; then \
		echo "docker-compose is not installed, and CI is set (.ci/run installs it)"; exit 1; \
	else \
		echo "docker-compose is not installed (Debian: apt-get install docker-compose): skipping the Compose files"; \
	fi
	cd tools && npm ci --no-audit --no-fund && npm run --silent lint:dockerfile
	cd deploy/kubernetes && $(GO) vet ./... && ../../$(STATICCHECK) ./... && $(GO) test -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeFrame$$' -fuzztime 30s ./protocol

clean:
	rm -rf bin tools/node_modules
	find web/dist -mindepth 1 -not -name .gitkeep -delete

$(STATICCHECK):
	GOBIN="$(CURDIR)/bin" $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv bin/staticcheck $@
