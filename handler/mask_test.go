package handler

import (
	"fmt"
	"strings"
	"testing"

	"github.com/picbucket/picbucket/signer"
)

// TestKeyHoldersPrintMasked formats each handler type that holds a key in
// an unexported field with the verbs fmt offers a struct, as a value, a
// pointer and inside a slice, and looks for the key.
func TestKeyHoldersPrintMasked(t *testing.T) {
	key := signer.Credentials{SecretID: "AKIDmaskCanary000042", SecretKey: "MASKCANARY-secret-key", SessionToken: "MASKCANARY-token"}
	acct := accountKey{uin: "100000000001", appID: "1250000000", source: signer.Static{Key: key}}
	inv := &invocation{creds: key, secrets: newSecretSet(key), id: identity{uin: "100000000001"}}
	inv.secrets.add(signer.Credentials{SecretID: "AKIDmaskCanaryMember1", SecretKey: "MASKCANARY-assumed-key", SessionToken: "MASKCANARY-assumed-token"})
	values := map[string]any{"accountKey": acct, "*accountKey": &acct, "*invocation": inv, "*secretSet": inv.secrets,
		"[]accountKey": []accountKey{acct}, "[]*invocation": []*invocation{inv}}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			out := fmt.Sprintf(verb, v)
			for _, secret := range []string{key.SecretKey, key.SessionToken, key.SecretID, "MASKCANARY-assumed-key"} {
				if strings.Contains(out, secret) || strings.Contains(out, fmt.Sprintf("%x", secret)) {
					t.Errorf("%s under %s prints a secret: %s", name, verb, out)
				}
			}
		}
	}
	if got := fmt.Sprint(acct); !strings.Contains(got, "100000000001") {
		t.Errorf("accountKey prints %q: it should still name the account", got)
	}
}
