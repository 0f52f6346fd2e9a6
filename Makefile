# rtbridge: the two set-up commands are `make demo` and `make test`.
GO ?= go
export GOTOOLCHAIN := local
BIN := bin/rtbridge
# The version agrees across `rtbridge version`, rtbridge_build_info and the
# package; the revision and date come from git when there is a checkout.
VERSION := $(shell cat VERSION)
REVISION := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH := $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
BUILD_DATE := $(shell date -u -d @$$(git log -1 --format=%ct 2>/dev/null || date +%s) +%Y%m%d-%H:%M:%S)
VPKG := github.com/prometheus/common/version
LDFLAGS := -X $(VPKG).Version=$(VERSION) -X $(VPKG).Revision=$(REVISION) -X $(VPKG).Branch=$(BRANCH) \
	-X $(VPKG).BuildDate=$(BUILD_DATE) -X $(VPKG).BuildUser=rtbridge
TEST_DIR ?= /tmp/rtbridge-test

.PHONY: all build test unit servers servers-down demo vet fmt bench bench-e2e clean deb deb-check

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/rtbridge

# Installs and starts RT 5, Dovecot and the KDC (Debian packages, loopback),
# then runs every test with integration tests required (never skipped).
test: servers
	@# No "tee /dev/stderr": opening /dev/stderr truncates a log file it points to.
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt: these files need formatting:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	@# go.mod and go.sum must already be what `go mod tidy` makes of them.
	@tidy=$$($(GO) mod tidy -diff) || { echo "go mod tidy would change go.mod/go.sum:"; echo "$$tidy"; exit 1; }
	RTBRIDGE_INTEGRATION=1 RTBRIDGE_TEST_DIR=$(TEST_DIR) $(GO) test -count=1 -timeout 15m ./...
	$(MAKE) deb-check

# Unit tests only: no servers needed; integration tests skip and say so.
unit:
	$(GO) test ./...

servers:
	RTBRIDGE_TEST_DIR=$(TEST_DIR) RT_RESET=1 bash test/servers/up.sh

servers-down:
	bash test/servers/down.sh

demo: build
	bash scripts/demo.sh

vet:
	$(GO) vet ./...

fmt:
	gofmt -w .

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin build

# The Debian package, built by nfpm (a Go tool dependency in go.mod: no
# network needed once the module cache holds it). The unit's ExecStart
# points at the package's /usr/bin/rtbridge.
deb: build
	mkdir -p build/deb
	sed 's|/usr/local/bin/rtbridge|/usr/bin/rtbridge|g' systemd/rtbridge.service >build/deb/rtbridge.service
	VERSION=$(VERSION) $(GO) tool nfpm package --config packaging/nfpm.yaml --packager deb --target build/
	@ls -l build/rtbridge_$(VERSION)-1_amd64.deb

# Installs the package on this machine, checks the installed example config
# and unit, then purges it (root; part of make test).
deb-check: deb
	bash packaging/check-deb.sh build/rtbridge_$(VERSION)-1_amd64.deb

# Side-by-side end-to-end benchmark (RT's ceiling, fetchmail + rt-mailgate,
# rtbridge over IMAP and webhooks, memory, IDLE latency) against the running
# test servers; takes minutes. Start the servers first with `make servers`.
bench-e2e: build
	RTBRIDGE_BIN=$(CURDIR)/$(BIN) bash bench/run.sh
