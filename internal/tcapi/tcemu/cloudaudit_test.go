package tcemu_test

import (
	"testing"

	"github.com/picbucket/picbucket/internal/tcapi/tcemu"
)

// TestTrackNeedsStoragePrefix: CloudAudit refuses a tracking set whose
// Storage has no StoragePrefix, as the API does (terraform-provider-
// tencentcloud resource_tc_audit_track.go: storage_prefix Required).
func TestTrackNeedsStoragePrefix(t *testing.T) {
	f := newFixture(t, tcemu.Options{})
	track := func(storage map[string]any) string {
		_, code := f.send(t, f.key, "cloudaudit", "2019-03-19", "CreateAuditTrack", "ap-guangzhou", map[string]any{
			"Name": "picbucket-cos-write", "ActionType": "Write", "ResourceType": "cos", "Status": 1,
			"EventNames": []string{"PutBucket"}, "Storage": storage})
		return code
	}
	for _, tc := range []struct {
		name, got, want string
	}{
		{"cls without prefix", track(map[string]any{"StorageType": "cls", "StorageRegion": "ap-guangzhou", "StorageName": "tp"}), "MissingParameter"},
		{"cos without prefix", track(map[string]any{"StorageType": "cos", "StorageRegion": "ap-guangzhou", "StorageName": "logs"}), "MissingParameter"},
		{"cos prefix with a dash", track(map[string]any{"StorageType": "cos", "StorageRegion": "ap-guangzhou", "StorageName": "logs", "StoragePrefix": "pic-bucket"}), "InvalidParameter"},
		// With the prefix, the next check answers: the topic does not exist.
		{"cls with prefix", track(map[string]any{"StorageType": "cls", "StorageRegion": "ap-guangzhou", "StorageName": "tp", "StoragePrefix": "picbucket"}), "FailedOperation.CheckClsTopicIsExistFailed"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: code %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}
