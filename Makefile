# picbucket's everyday commands; `make` alone lists them. Every file a target
# or README.md builds is in .gitignore, and `make clean` removes it.
GO ?= go
export GO

# The binaries README.md builds at the top of the checkout: the function
# (`go build -o main .`, or `go build` alone: picbucket) and each tool of cmd/
# (`go build ./cmd/X` writes X).
BINARIES := main picbucket $(notdir $(wildcard cmd/*))

.PHONY: help package test test-short local clean

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

clean: ## remove dist/, build/ and the binaries README.md builds
	rm -rf dist build
	rm -f $(BINARIES) *.test *.out *.prof
