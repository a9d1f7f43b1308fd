# hlsmark's tasks. Each target installs what it needs first (scripts/setup
# skips what is already there). `make help` lists them.

SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
GO ?= go
BIN := bin/hlsmark
HLSJS := web/static/vendor/hls.min.js

.PHONY: help setup setup-test web build run test bench bench-compare docker-test clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

setup: ## install build and run prerequisites (Debian packages)
	@scripts/setup run

setup-test: ## install the test prerequisites too (ffmpeg, chromium, vlc, python3-numpy)
	@scripts/setup test

web: $(HLSJS) ## fetch hls.js from npm (pinned by package-lock.json) into web/

$(HLSJS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(dir $@)
	cp node_modules/hls.js/dist/hls.min.js $@

build: setup web ## build bin/hlsmark
	$(GO) build -o $(BIN) ./cmd/hlsmark

run: build ## stream the checkerboard at http://127.0.0.1:8080/ (flags for serve in ARGS='...')
	$(BIN) serve $(ARGS)

test: setup-test web ## vet, format check, and every test with the race detector
	npm test
	$(GO) vet ./...
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$$($(GO) env GOPATH)/bin/staticcheck ./...
	$(GO) test -race -count=1 -timeout 30m ./...
	# playlist, marker and server need no libav: they build and test without cgo.
	CGO_ENABLED=0 $(GO) test -count=1 ./playlist/... ./marker/... ./server/...
	# The load test needs real time, which the race detector takes away.
	$(GO) test -count=1 -run '^TestLoad$$' -v ./cmd/hlsmark
	$(GO) test -run '^$$' -bench . -benchtime 3x ./...
	scripts/docker-test

docker-test: ## build the image (base images made locally if absent), run it, check it
	scripts/docker-test

bench: build ## the Go benchmarks (compare runs with benchstat)
	$(GO) test -run '^$$' -bench . ./...

bench-compare: setup-test web ## hlsmark vs the ffmpeg CLI vs libx264 alone, real time, memory, serving vs nginx, then attack and kill -9; writes docs/BENCHMARKS.md and docs/RELIABILITY.md (~60 min)
	bench/compare

clean: ## remove build output
	rm -rf bin node_modules web/static/vendor
