package handler

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/picbucket/picbucket/signer"
)

// TestFitReturnKeepsWhatMattersFirst: a Result over the bound keeps its
// failed and deferred rows (in their places), then as many others as fit;
// the summary stays whole, and a key is still redacted.
func TestFitReturnKeepsWhatMattersFirst(t *testing.T) {
	secrets := newSecretSet(signer.Credentials{SecretID: "AKIDx", SecretKey: "fit-return-secret-key"})
	res := &Result{Trigger: "timer"}
	for i := range 400 {
		res.Results = append(res.Results, BucketResult{Bucket: fmt.Sprintf("b%03d-1250000000", i), Region: "ap-guangzhou", Outcome: AlreadyEnabled, Reason: strings.Repeat("r", 100)})
	}
	res.Results[350] = BucketResult{Bucket: "b350-1250000000", Region: "ap-guangzhou", Outcome: Failed, Error: "boom fit-return-secret-key"}
	res.Results[399] = BucketResult{Bucket: "b399-1250000000", Region: "ap-guangzhou", Outcome: Deferred, Reason: "deadline"}
	res.finish()
	whole, _ := json.Marshal(res)
	const max = 20000
	out, err := fitReturn(res, secrets, max)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) > max || len(whole) <= max {
		t.Fatalf("%d bytes from %d, want at most %d from more", len(out), len(whole), max)
	}
	if strings.Contains(string(out), "fit-return-secret-key") {
		t.Error("the key is in the return value")
	}
	var got Result
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got.Summary) != fmt.Sprint(res.Summary) {
		t.Errorf("summary %+v, want %+v", got.Summary, res.Summary)
	}
	n := len(got.Results)
	if n < 2 || got.ResultsOmitted != 400-n {
		t.Fatalf("%d kept, %d omitted", n, got.ResultsOmitted)
	}
	if got.Results[n-2].Outcome != Failed || got.Results[n-1].Outcome != Deferred {
		t.Errorf("the last rows kept are %s and %s, want the failed and the deferred one in their places", got.Results[n-2].Outcome, got.Results[n-1].Outcome)
	}
	if last := got.Notes[len(got.Notes)-1]; !strings.HasPrefix(last, fmt.Sprintf("%d of 400 bucket results are left out", got.ResultsOmitted)) {
		t.Errorf("note %q", last)
	}
	if small, _ := fitReturn(&Result{Trigger: "timer", Results: res.Results[:3]}, secrets, max); strings.Contains(string(small), "resultsOmitted") {
		t.Errorf("a small Result is cut: %s", small)
	}
}
