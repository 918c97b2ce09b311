package deploy_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/picbucket/picbucket/internal/deploy"
)

// TestRepositoryServerlessLoads: the repository's serverless.yml passes
// LoadServerless, the check cmd/wire runs before anything else.
func TestRepositoryServerlessLoads(t *testing.T) {
	s, err := deploy.LoadServerless(filepath.Join("..", "..", deploy.ServerlessFile))
	if err != nil {
		t.Fatal(err)
	}
	if s.Function != "picbucket" || s.Runtime != "Go1" || s.Handler != "main" || len(s.Timers) != 1 || !s.Timers[0].ArgumentIsString {
		t.Errorf("loaded %+v", s)
	}
}

const goodYAML = `component: scf
inputs:
  name: picbucket
  handler: main
  runtime: Go1
  region: ap-guangzhou
  role: picbucket-execution
  memorySize: 64
  timeout: 300
  environment:
    variables:
      PICBUCKET_DRY_RUN: "true"
  events:
    - timer:
        parameters:
          name: picbucket-reconcile
          cronExpression: "0 15 * * * * *"
          enable: true
          argument: ""
`

// TestLoadServerlessRefuses: each defect is named; the file is read once,
// nothing else happens.
func TestLoadServerlessRefuses(t *testing.T) {
	for _, tc := range []struct{ name, from, to, want string }{
		{"unquoted map argument", `argument: ""`, `argument: {"dryRun": true}`, "argument is not a quoted string"},
		{"region typo", "region: ap-guangzhou", "region: ap-guanzhou", `inputs.region "ap-guanzhou"`},
		{"runtime", "runtime: Go1", "runtime: Nodejs12.16", `inputs.runtime "Nodejs12.16"`},
		{"bad setting", `PICBUCKET_DRY_RUN: "true"`, `PICBUCKET_DRY_RUN: "maybe"`, "PICBUCKET_DRY_RUN"},
		{"unquoted number", `PICBUCKET_DRY_RUN: "true"`, `PICBUCKET_CONCURRENCY: 8`, "not a quoted string"},
		{"a setting twice", `PICBUCKET_DRY_RUN: "true"`, "PICBUCKET_DRY_RUN: \"true\"\n      PICBUCKET_DRY_RUN: \"false\"", "PICBUCKET_DRY_RUN: set twice"},
		{"not YAML", "component: scf", "component: [scf", "not the scf component's YAML"},
		{"namespace wildcard", "  region: ap-guangzhou", "  namespace: \"*\"\n  region: ap-guangzhou", `inputs.namespace "*"`},
		{"namespace path", "  region: ap-guangzhou", "  namespace: a/b\n  region: ap-guangzhou", `inputs.namespace "a/b"`},
		{"role wildcard", "role: picbucket-execution", `role: "picbucket-*"`, `inputs.role "picbucket-*"`},
		{"role with a space", "role: picbucket-execution", `role: "picbucket execution"`, `inputs.role "picbucket execution"`},
		{"cls trigger without topic", "    - timer:", "    - cls:\n        parameters:\n          enable: true\n    - timer:", "cls trigger without topicId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "serverless.yml")
			if err := os.WriteFile(p, []byte(strings.Replace(goodYAML, tc.from, tc.to, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := deploy.LoadServerless(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one naming %q", err, tc.want)
			}
		})
	}
	if _, err := deploy.LoadServerless(filepath.Join(t.TempDir(), "missing.yml")); err == nil || !strings.Contains(err.Error(), "missing.yml") {
		t.Errorf("missing file: %v", err)
	}
	p := filepath.Join(t.TempDir(), "serverless.yml")
	os.WriteFile(p, []byte(goodYAML), 0o644)
	if _, err := deploy.LoadServerless(p); err != nil {
		t.Errorf("good file: %v", err)
	}
}
