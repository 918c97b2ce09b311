package deploy

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/picbucket/picbucket/internal/bucket"
	"github.com/picbucket/picbucket/internal/config"
	"github.com/picbucket/picbucket/internal/rules"
)

// ServerlessFile is the deployment file's name, at the module's root.
const ServerlessFile = "serverless.yml"

// Serverless is what the scf component deploys, as serverless.yml declares
// it (serverless-components/tencent-scf docs/configure.md): the parts the
// wire tool (cmd/wire) sets up around the function and checks against the
// account.
type Serverless struct {
	Component string
	// Function is inputs.name; Namespace inputs.namespace ("default" when
	// absent, the component's default).
	Function, Namespace string
	Region, Role        string
	Runtime, Handler    string
	MemorySize, Timeout int
	// Env is inputs.environment.variables.
	Env map[string]string
	// LogsetID and TopicID are inputs.cls: the function's log topic. Empty
	// until `wire apply` made the topic and its ids were pasted in.
	LogsetID, TopicID string
	// Timers are the timer triggers; CLSTopics the topic ids of the cls
	// triggers (the organization trail's).
	Timers    []Timer
	CLSTopics []string
}

// Timer is a timer trigger's parameters.
type Timer struct {
	Name, Qualifier, Cron string
	Enable                bool
	// Argument is the event's Message: a string. ArgumentIsString is
	// false when YAML gave something else (an unquoted map is passed on as
	// a map by the component, not as the JSON text the function reads).
	Argument         string
	ArgumentIsString bool
}

// Settings returns the function's settings as it reads them at every
// invocation (internal/config), from inputs.environment.variables.
func (s *Serverless) Settings() (config.Config, error) {
	return config.Load(func(k string) string { return s.Env[k] })
}

// OrgMode reports whether the settings cover an organization's members
// (PICBUCKET_ACCOUNTS set).
func (s *Serverless) OrgMode() bool { return strings.TrimSpace(s.Env[config.Accounts]) != "" }

// the YAML shape.
type serverlessYAML struct {
	Component string `yaml:"component"`
	Inputs    struct {
		Name        string `yaml:"name"`
		Namespace   string `yaml:"namespace"`
		Handler     string `yaml:"handler"`
		Runtime     string `yaml:"runtime"`
		Region      string `yaml:"region"`
		Role        string `yaml:"role"`
		MemorySize  int    `yaml:"memorySize"`
		Timeout     int    `yaml:"timeout"`
		Environment struct {
			Variables yaml.Node `yaml:"variables"`
		} `yaml:"environment"`
		CLS struct {
			LogsetID string `yaml:"logsetId"`
			TopicID  string `yaml:"topicId"`
		} `yaml:"cls"`
		Events []map[string]struct {
			Parameters struct {
				Name           string    `yaml:"name"`
				Qualifier      string    `yaml:"qualifier"`
				CronExpression string    `yaml:"cronExpression"`
				Enable         bool      `yaml:"enable"`
				Argument       yaml.Node `yaml:"argument"`
				TopicID        string    `yaml:"topicId"`
			} `yaml:"parameters"`
		} `yaml:"events"`
	} `yaml:"inputs"`
}

// LoadServerless reads and checks path. Every problem is reported in one
// error: a file that is missing or not YAML, a component other than scf, a
// runtime other than Go1, a handler other than BinaryName, a missing name,
// role or region, memory or timeout out of SCF's range, environment values
// that are not strings or that the function's own validation refuses
// (internal/config), a timer whose argument is not a string or whose cron
// is invalid.
func LoadServerless(path string) (*Serverless, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (run from the directory that holds it, or pass its path)", path, err)
	}
	var y serverlessYAML
	if err := yaml.Unmarshal(b, &y); err != nil {
		return nil, fmt.Errorf("%s: not the scf component's YAML: %w", path, err)
	}
	in := y.Inputs
	s := &Serverless{Component: y.Component, Function: in.Name, Namespace: in.Namespace, Region: in.Region, Role: in.Role,
		Runtime: in.Runtime, Handler: in.Handler, MemorySize: in.MemorySize, Timeout: in.Timeout, Env: map[string]string{},
		LogsetID: in.CLS.LogsetID, TopicID: in.CLS.TopicID}
	if s.Namespace == "" {
		s.Namespace = "default"
	}
	var bad []string
	problem := func(format string, a ...any) { bad = append(bad, fmt.Sprintf(format, a...)) }
	if s.Component != "scf" {
		problem("component %q: want scf", s.Component)
	}
	if err := rules.FunctionName(s.Function); err != nil {
		problem("inputs.name %q: %v", s.Function, err)
	}
	if err := bucket.ValidateRegion(s.Region); err != nil || !bucket.KnownRegion(s.Region) {
		problem("inputs.region %q: not a Tencent Cloud region id; did you mean %s?", s.Region, bucket.NearestRegion(s.Region))
	}
	if err := rules.Namespace(s.Namespace); err != nil {
		problem("inputs.namespace %q: %v", s.Namespace, err)
	}
	if s.Role == "" {
		problem("inputs.role: empty; the function needs its execution role")
	} else if err := rules.RoleName(s.Role); err != nil {
		problem("inputs.role %q: %v", s.Role, err)
	}
	if s.Runtime != "Go1" {
		problem("inputs.runtime %q: want Go1", s.Runtime)
	}
	if s.Handler != BinaryName {
		problem("inputs.handler %q: want %s, the binary's name", s.Handler, BinaryName)
	}
	if s.MemorySize < 64 || s.MemorySize > 3072 {
		problem("inputs.memorySize %d: want 64-3072 MB", s.MemorySize)
	}
	if s.Timeout < 1 || s.Timeout > 900 {
		problem("inputs.timeout %d: want 1-900 s", s.Timeout)
	}
	if v := in.Environment.Variables; v.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(v.Content); i += 2 {
			k, val := v.Content[i], v.Content[i+1]
			if _, dup := s.Env[k.Value]; dup {
				problem("inputs.environment.variables.%s: set twice", k.Value)
			}
			if val.Kind != yaml.ScalarNode || val.Tag != "!!str" {
				problem("inputs.environment.variables.%s: not a quoted string (the component passes YAML's %s as is)", k.Value, val.Tag)
				continue
			}
			s.Env[k.Value] = val.Value
		}
	} else if v.Kind != 0 {
		problem("inputs.environment.variables: want a map of strings")
	}
	if _, err := s.Settings(); err != nil {
		problem("the function refuses its settings: %v", err)
	}
	for _, ev := range in.Events {
		for kind, e := range ev {
			p := e.Parameters
			switch kind {
			case "timer":
				t := Timer{Name: p.Name, Qualifier: p.Qualifier, Cron: p.CronExpression, Enable: p.Enable}
				a := p.Argument
				t.ArgumentIsString = a.Kind == 0 || a.Kind == yaml.ScalarNode && a.Tag == "!!str"
				t.Argument = a.Value
				if !t.ArgumentIsString {
					problem("timer %q: argument is not a quoted string (YAML %s): quote it, e.g. argument: '{\"dryRun\":true}'", p.Name, a.Tag)
				}
				if err := ValidateCron(p.CronExpression); err != nil {
					problem("timer %q: %v", p.Name, err)
				}
				s.Timers = append(s.Timers, t)
			case "cls":
				if p.TopicID == "" {
					problem("a cls trigger without topicId")
					continue
				}
				s.CLSTopics = append(s.CLSTopics, p.TopicID)
			}
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return s, fmt.Errorf("%w: %s: %s", ErrServerless, path, strings.Join(bad, "; "))
	}
	return s, nil
}

// ErrServerless reports a serverless.yml that LoadServerless refuses.
var ErrServerless = errors.New("invalid serverless.yml")
