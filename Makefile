# Build the deployable binary and zip: dist/main (the directory serverless.yml
# deploys) and build/picbucket.zip (main at the zip's root, mode 0755).
GO ?= go
export GO
.PHONY: package test local clean
package:
	$(GO) run ./cmd/package
test:
	$(GO) test -race ./...
local:
	$(GO) run ./cmd/local events/timer.json
clean:
	rm -rf dist build
