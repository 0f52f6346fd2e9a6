# rtbridge: the two set-up commands are `make demo` and `make test`.
GO ?= go
export GOTOOLCHAIN := local
BIN := bin/rtbridge
TEST_DIR ?= /tmp/rtbridge-test

.PHONY: all build test unit servers servers-down demo vet fmt bench bench-e2e clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/rtbridge

# Installs and starts RT 5, Dovecot and the KDC (Debian packages, loopback),
# then runs every test with integration tests required (never skipped).
test: servers
	@# No "tee /dev/stderr": opening /dev/stderr truncates a log file it points to.
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt: these files need formatting:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	RTBRIDGE_INTEGRATION=1 RTBRIDGE_TEST_DIR=$(TEST_DIR) $(GO) test -count=1 -timeout 15m ./...

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
	rm -rf bin

# Side-by-side end-to-end benchmark (RT's ceiling, fetchmail + rt-mailgate,
# rtbridge over IMAP and webhooks, memory, IDLE latency) against the running
# test servers; takes minutes. Start the servers first with `make servers`.
bench-e2e: build
	RTBRIDGE_BIN=$(CURDIR)/$(BIN) bash bench/run.sh
