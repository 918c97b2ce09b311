package main_test

import (
	"strings"
	"testing"

	"github.com/picbucket/picbucket/internal/ciservice"
)

// TestOrganizationServices: the binary, through net/rpc, in an organization
// run without fan-out and PICBUCKET_SERVICES=pic,media: every reconciled
// account's buckets get both services, each pair with its own line carrying
// account and service, every request signed by the bucket owner's key.
func TestOrganizationServices(t *testing.T) {
	f := startOrg(t, "PICBUCKET_ACCOUNTS=org", "PICBUCKET_EXCLUDE_ACCOUNTS="+memberExcl+","+memberNoRol, "PICBUCKET_FANOUT=false",
		"PICBUCKET_SERVICES=pic,media")
	res, errMsg := f.invoke(readEvent(t, "timer.json"))
	if errMsg != "" {
		t.Fatalf("timer: %s\n%s", errMsg, f.out)
	}
	for _, name := range []string{"photos-1250000000", "old-1250000000", "a-1250000011", "b-1250000011", "c-1250000011", "d-1250000012"} {
		for _, id := range []ciservice.ID{ciservice.Pic, ciservice.Media} {
			if !f.emu.ServiceEnabled(name, id) {
				t.Errorf("%s: %s not enabled", name, id)
			}
		}
	}
	if f.emu.ServiceEnabled("e-1250000013", ciservice.Media) || f.emu.ServiceEnabled("f-1250000014", ciservice.Media) {
		t.Error("an excluded account's bucket got media processing")
	}
	pairs := map[string]bool{}
	for _, b := range res.Results {
		if b.Account == "" || b.Service == "" {
			t.Errorf("result without account or service: %+v", b)
		}
		pairs[b.Bucket+" "+b.Service] = true
	}
	if len(pairs) != 12 || len(res.Results) != 12 {
		t.Errorf("%d results, %d pairs; want 12 (6 buckets x 2 services)", len(res.Results), len(pairs))
	}
	if s := res.Summary.ByService["media"]; s.Enabled != 6 {
		t.Errorf("media summary %+v, want 6 enabled", s)
	}
	if n := strings.Count(f.logs(), `"service":"media","outcome"`); n != 6 {
		t.Errorf("%d media bucket lines, want 6", n)
	}
	f.checkSigners()
	checkNoAssumedSecrets(t, f)
}
