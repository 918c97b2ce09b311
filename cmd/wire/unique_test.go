package main

import (
	"strings"
	"testing"

	"github.com/picbucket/picbucket/internal/tcapi"
)

// TestUniqueID: the one logset or topic of wire's name is found among
// others; none is ""; two of that name are an error naming both ids.
func TestUniqueID(t *testing.T) {
	nameID := func(s tcapi.Logset) (string, string) { return s.LogsetName, s.LogsetId }
	for _, tc := range []struct {
		sets    []tcapi.Logset
		want    string
		wantErr string
	}{
		{nil, "", ""},
		{[]tcapi.Logset{{LogsetName: "other", LogsetId: "ls-1"}}, "", ""},
		{[]tcapi.Logset{{LogsetName: "other", LogsetId: "ls-1"}, {LogsetName: LogLogset, LogsetId: "ls-2"}}, "ls-2", ""},
		{[]tcapi.Logset{{LogsetName: LogLogset, LogsetId: "ls-1"}, {LogsetName: LogLogset, LogsetId: "ls-2"}}, "", "two CLS logsets are named \"" + LogLogset + "\" (ls-1, ls-2): delete one"},
	} {
		got, err := uniqueID("logsets", LogLogset, tc.sets, nameID)
		if got != tc.want || (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("uniqueID(%+v) = %q, %v; want %q, %q", tc.sets, got, err, tc.want, tc.wantErr)
		}
	}
}
