# picbucket's everyday commands; `make` alone lists them. Every file a target
# or README.md builds is in .gitignore, and `make clean` removes it.
GO ?= go
export GO

# The binaries README.md builds at the top of the checkout: the function
# (`go build -o main .`, or `go build` alone: picbucket) and each tool of cmd/
# (`go build ./cmd/X` writes X).
BINARIES := main picbucket $(notdir $(wildcard cmd/*))

.PHONY: help package test test-short local mutate clean

help: ## list the targets (the default)
	@awk -F':.*## ' '/^[a-z-]+:.*## /{printf "  make %-11s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

package: ## build dist/main (what serverless.yml deploys) and build/picbucket.zip
	$(GO) run ./cmd/package

test: ## the full test suite, with the race detector (what CI runs)
	$(GO) test -race ./...

test-short: ## a quick first check: no race detector, long tests skipped
	$(GO) test -short ./...

local: ## run the function once on the embedded emulator with events/timer.json
	$(GO) run ./cmd/local events/timer.json

# Mutation testing with a pinned gremlins (installed through the Go module
# proxy by `go run`). Not in CI: each mutant runs its package's tests, about
# 40 minutes for handler/ and internal/trigger on 2 shared cores. Scope a run
# with MUTATE_PKGS, and with MUTATE_FLAGS='-E REGEXP' to leave files out
# (docs/reliability.md records the last run and every surviving mutant).
GREMLINS ?= github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0
MUTATE_PKGS ?= ./handler ./internal/trigger
MUTATE_FLAGS ?=
mutate: ## mutation check of the judgement code (handler/, internal/trigger); slow, not in CI
	@for p in $(MUTATE_PKGS); do \
	  echo "== gremlins $$p"; \
	  GOFLAGS=-count=1 $(GO) run $(GREMLINS) unleash --workers 2 --test-cpu 1 --timeout-coefficient 5 $(MUTATE_FLAGS) $$p || exit 1; \
	done

clean: ## remove dist/, build/ and the binaries README.md builds
	rm -rf dist build
	rm -f $(BINARIES) *.test *.out *.prof
