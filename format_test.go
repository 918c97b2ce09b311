package main_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/picbucket/picbucket/internal/config"
	"github.com/picbucket/picbucket/internal/cosapi"
	"github.com/picbucket/picbucket/internal/scfrpc"
	"github.com/picbucket/picbucket/internal/tcapi"
	"github.com/picbucket/picbucket/signer"
)

// formatVerbs are the verbs (with flags and widths) a type that holds a key
// is formatted with. %T names only the type. %p, and %w outside Errorf's
// errors, are verbs fmt reports as wrong for a value, printing its fields
// raw: go vet refuses them (CI runs it), so they are not here.
var formatVerbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.4v", "%-40s", "%+q", "%#q", "% x", "%t", "%e", "%U", "%c", "%o", "%b"}

// TestNoFormatPrintsAKey formats every type of the module that holds a key
// (a signer.Credentials, in an exported or an unexported field, or the
// Environment of an SCF invocation) with every verb, as a value and as a
// pointer, inside a slice, a map and a struct, wrapped in an error, as JSON
// and through zerolog, and looks for the secret key, the token and the
// whole secret id, also in hex and base64.
func TestNoFormatPrintsAKey(t *testing.T) {
	key := signer.Credentials{SecretID: "AKIDfmtCanaryId0042", SecretKey: "FMTCANARY-secret-key-Zx7", SessionToken: "FMTCANARY-token-Lq3"}
	member := signer.Credentials{SecretID: "AKIDfmtCanaryMember9", SecretKey: "FMTCANARY-member-key-Rt5", SessionToken: "FMTCANARY-member-token-Ns8"}
	var secrets []string
	for _, s := range []string{key.SecretID, key.SecretKey, key.SessionToken, member.SecretID, member.SecretKey, member.SessionToken} {
		secrets = append(secrets, s, hex.EncodeToString([]byte(s)), strings.ToUpper(hex.EncodeToString([]byte(s))),
			base64.StdEncoding.EncodeToString([]byte(s)), strings.TrimRight(base64.URLEncoding.EncodeToString([]byte(s)), "="))
	}

	tc, err := tcapi.New(key, tcapi.Options{Region: "ap-guangzhou"})
	if err != nil {
		t.Fatal(err)
	}
	memberTC := tc.With(member)
	transport := &signer.Transport{Source: signer.Static{Key: key}, Next: &cosapi.Route{}}
	cos := cosapi.New(transport)
	env := map[string]string{signer.EnvSecretID: key.SecretID, signer.EnvSecretKey: key.SecretKey, signer.EnvSessionToken: key.SessionToken}
	getenv := func(k string) string { return env[k] }
	cfg, err := config.Load(getenv)
	if err != nil {
		t.Fatal(err)
	}
	inv := scfrpc.Invocation{RequestID: "r", Environment: env, Payload: []byte(`{}`)}

	holders := map[string]any{
		"signer.Credentials":   key,
		"*signer.Credentials":  &key,
		"signer.Static":        signer.Static{Key: key},
		"*signer.Static":       &signer.Static{Key: key},
		"signer.Transport":     *transport,
		"*config.Config":       &cfg,
		"*signer.Transport":    transport,
		"signer.Env":           signer.Env{Getenv: getenv},
		"*tcapi.Client":        tc,
		"tcapi.Client":         *tc,
		"*tcapi.Client member": memberTC,
		"tcapi.Client member":  *memberTC,
		"*cosapi.Client":       cos,
		"config.Config":        cfg,
		"scfrpc.Invocation":    inv,
		"*scfrpc.Invocation":   &inv,
	}
	for name, v := range holders {
		var out []string
		for _, verb := range formatVerbs {
			out = append(out,
				fmt.Sprintf(verb, v),
				fmt.Sprintf(verb, []any{v}),
				fmt.Sprintf(verb, map[string]any{"k": v}),
				fmt.Sprintf(verb, struct{ Held any }{v}),
				fmt.Errorf("wrapped: "+verb, v).Error())
		}
		out = append(out, fmt.Sprint(v), fmt.Sprintln(v))
		if b, err := json.Marshal(v); err == nil {
			out = append(out, string(b))
		} else {
			out = append(out, err.Error())
		}
		var logged bytes.Buffer
		log := zerolog.New(&logged)
		log.Info().Interface("interface", v).Any("any", v).Msg("")
		if s, ok := v.(fmt.Stringer); ok {
			log.Info().Stringer("stringer", s).Msg("")
		}
		log.Info().Fields(map[string]any{"field": v}).Msg("")
		out = append(out, logged.String())

		all := strings.Join(out, "\n")
		for _, s := range secrets {
			if i := strings.Index(all, s); i >= 0 {
				line := all[strings.LastIndexByte(all[:i], '\n')+1:]
				if j := strings.IndexByte(line, '\n'); j >= 0 {
					line = line[:j]
				}
				t.Errorf("%s: a secret in %q", name, line)
				break
			}
		}
	}
	// The masked forms still tell a reader which key it is.
	if got := fmt.Sprint(tc); !strings.Contains(got, "AKID…0042") || !strings.Contains(got, "ap-guangzhou") {
		t.Errorf("tcapi.Client prints %q, want the masked id and the region", got)
	}
	if got := fmt.Sprint(inv); !strings.Contains(got, signer.EnvSecretKey) {
		t.Errorf("scfrpc.Invocation prints %q, want the Environment's names", got)
	}
}
