# Build the deployable binary and zip: main at the zip's root, linux/amd64, static.
GO ?= go
.PHONY: package test local clean
package:
	mkdir -p dist
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags "-s -w" -o dist/main .
	cd dist && rm -f picbucket.zip && zip -q picbucket.zip main
	@ls -l dist
test:
	$(GO) test -race ./...
local:
	$(GO) run ./cmd/local events/timer.json
clean:
	rm -rf dist
