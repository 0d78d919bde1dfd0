# Outpost — build, run and test. `make run` and `make test` are the two
# commands a newcomer needs; both install what is missing first.

SHELL        := /bin/bash
GO           ?= go
export GOFLAGS := -mod=readonly
VERSION      ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
DESKTOP_TAGS := desktop,production,webkit2_41
LDFLAGS      := -X main.version=$(VERSION)
BIN          := build/bin
DATA_DIR     ?=
DEMO_DIR     := .cache/demo
KEYRING      := scripts/with-keyring.sh
GO_SOURCES   := $(shell git ls-files '*.go' 2>/dev/null) go.mod go.sum
UI_SOURCES   := $(shell git ls-files frontend/src frontend/index.html frontend/public 2>/dev/null) frontend/package-lock.json frontend/vite.config.ts

.PHONY: all deps frontend build run demo test fmt-check vet test-go test-frontend test-e2e smoke bench clean

all: build

deps:
	@scripts/deps.sh

frontend/dist/index.html: $(UI_SOURCES) | deps
	cd frontend && npm run build

frontend: deps frontend/dist/index.html

$(BIN)/outpost: frontend/dist/index.html $(GO_SOURCES)
	$(GO) build -trimpath -tags $(DESKTOP_TAGS) -ldflags '$(LDFLAGS)' -o $@ .

$(BIN)/outpost-admin: $(GO_SOURCES)
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $@ ./backend/cmd/outpost-admin

$(BIN)/outpost-server: $(GO_SOURCES)
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $@ ./backend/cmd/outpost-server

$(BIN)/outpost-release: $(GO_SOURCES)
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $@ ./backend/cmd/outpost-release

$(BIN)/harness: frontend/dist/index.html $(GO_SOURCES)
	$(GO) build -o $@ ./tools/harness

build: deps $(BIN)/outpost $(BIN)/outpost-admin $(BIN)/outpost-server $(BIN)/outpost-release

## run: build and start the app; the first run opens clinic setup.
## DATA_DIR=folder uses another data folder.
run: build
	$(BIN)/outpost $(if $(DATA_DIR),--data-dir $(DATA_DIR))

## demo: start the app on a demo clinic of synthetic patients (made on first use).
demo: build
	@if [ ! -f $(DEMO_DIR)/vault.json ]; then \
	  mkdir -p .cache && $(BIN)/outpost-admin demo --data-dir $(DEMO_DIR) --credentials .cache/demo-login.txt >/dev/null; fi
	@cat .cache/demo-login.txt
	$(BIN)/outpost --data-dir $(DEMO_DIR)

## test: every check CI runs.
test: deps fmt-check vet test-go test-frontend test-e2e smoke

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# All Go tests, inside a D-Bus session with a real gnome-keyring, so the
# keyring tests run (and fail rather than skip if it is unusable).
test-go:
	$(KEYRING) $(GO) test -count=1 ./...

test-frontend: frontend
	cd frontend && npm test

# The sync test (frontend/e2e/sync.test.mjs) runs the real outpost-server too.
test-e2e: $(BIN)/harness $(BIN)/outpost-server
	$(KEYRING) env OUTPOST_HARNESS=$(abspath $(BIN)/harness) OUTPOST_SERVER=$(abspath $(BIN)/outpost-server) \
	  OUTPOST_SCREENSHOT_DIR=$(abspath build/e2e) bash -c 'cd frontend && npm run e2e'

smoke: $(BIN)/outpost $(BIN)/outpost-admin
	$(KEYRING) scripts/smoke.sh $(BIN)/outpost $(BIN)/outpost-admin

## bench: the 100,000-patient benchmarks and sign-in; fails when a target is missed.
bench:
	OUTPOST_BENCH_STRICT=1 $(GO) test -run '^$$' -bench Login -benchtime 50x ./backend/auth/
	OUTPOST_BENCH_STRICT=1 $(GO) test -run '^$$' -bench Clinic -benchtime 2000x -timeout 30m ./backend/records/
	OUTPOST_BENCH_STRICT=1 $(GO) test -run '^$$' -bench ChartSummary -benchtime 200x ./backend/records/
	OUTPOST_BENCH_STRICT=1 $(GO) test -run '^$$' -bench Import -benchtime 30x ./backend/fhir/
	OUTPOST_BENCH_STRICT=1 $(GO) test -run '^$$' -bench AuditVerify -benchtime 5x -timeout 30m ./backend/audit/
	OUTPOST_BENCH_STRICT=1 $(GO) test -run '^$$' -bench 'AuditWrite|AuditRead' -benchtime 1000x ./backend/audit/
	OUTPOST_BENCH_STRICT=1 $(GO) test -run '^$$' -bench Ingest -benchtime 200x ./backend/syncserver/
	OUTPOST_BENCH_STRICT=1 $(GO) test -run '^$$' -bench InitialSync -benchtime 1x -timeout 60m ./backend/sync/
	OUTPOST_BENCH_STRICT=1 $(GO) test -run '^$$' -bench IncrementalSync -benchtime 200x -timeout 30m ./backend/sync/

clean:
	rm -rf $(BIN) build/smoke build/e2e frontend/dist/assets frontend/dist/index.html

## release: reproducible release builds in dist/ (docs/building.md): the
## Linux tarball, the desktop and server .debs, the Windows .exe files
## (cross-compiled with mingw-w64) and SHA256SUMS. VERSION=X.Y.Z for a
## release the updater accepts; by default git describe.
RELEASE := VERSION=$(VERSION) GO=$(GO) DESKTOP_TAGS=$(DESKTOP_TAGS) scripts/release.sh
.PHONY: release release-linux release-windows deb test-repro clean-release

release: release-linux release-windows deb
	@$(RELEASE) sums

release-linux: deps frontend
	$(RELEASE) linux
	$(RELEASE) tarball

release-windows: deps frontend
	$(RELEASE) windows
	$(RELEASE) check-windows

deb: release-linux
	$(RELEASE) deb

## test-repro: build HEAD twice in two clones (the second with empty Go build
## and module caches) and compare byte for byte: the UI, outpost-admin, outpost-server,
## outpost-release, and outpost.exe and outpost-admin.exe for Windows.
## REPRO_FULL=1 adds the Linux desktop binary, the tarball and the .debs.
test-repro: deps
	scripts/reproducible.sh $(if $(REPRO_FULL),--full)

# CI (make test) builds the Windows .exe files and checks reproducibility.
test: test-repro

clean-release:
	rm -rf dist build/release
clean: clean-release

## scan: the security scanners (README, "Security scanners"): gosec,
## staticcheck, govulncheck on the pinned offline database, gitleaks over the
## tree and every commit, npm audit and the lock file's integrity hashes,
## and an SBOM check. Each fails on a finding not in .ci/allow/.
.PHONY: scan sbom
scan: deps
	scripts/scan.sh

## sbom: CycloneDX SBOMs of the app (Go modules and the frontend's npm
## packages) and of the server, in dist/ (made by make release, so SHA256SUMS
## covers them).
sbom: deps
	VERSION=$(VERSION) SBOM_DIR=dist scripts/scan.sh sbom

test: scan
release: sbom
