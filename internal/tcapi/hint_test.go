package tcapi

import (
	"strings"
	"testing"
)

// TestHint: the advice each product's error codes get, the shared ones
// (throttling, an unreachable API) for every product, EventBridge's naming
// its --api-host.
func TestHint(t *testing.T) {
	for _, tc := range []struct {
		service, action, code, want string
	}{
		{CLSService, "CreateTopic", "RequestLimitExceeded", "throttled"},
		{EventBridgeService, "CreateRule", "RequestLimitExceeded", "throttled"},
		{CLSService, "CreateTopic", "ClientError.NetworkError", "HTTPS_PROXY"},
		{EventBridgeService, "ListRules", "ClientError.NetworkError", "--api-host"},
		{EventBridgeService, "ListRules", "ClientError.HttpStatusCodeError", "--api-host"},
		{EventBridgeService, "ListRules", "ResourceNotFound.EventBus", "ap-guangzhou"},
		{EventBridgeService, "CreateRule", "UnauthorizedOperation", "eb:CreateRule"},
		{SCFService, "ListTriggers", "ResourceNotFound.Function", "deploy the function first"},
		{CLSService, "CreateTopic", "LimitExceeded.Topic", "quota"},
		{CLSService, "CreateTopic", "InvalidParameter", ""},
	} {
		got := Hint(tc.service, tc.action, tc.code)
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("Hint(%s, %s, %s) = %q, want it to say %q", tc.service, tc.action, tc.code, got, tc.want)
		}
		if tc.service != EventBridgeService && strings.Contains(got, "--api-host") {
			t.Errorf("Hint(%s, %s, %s) = %q names EventBridge's --api-host", tc.service, tc.action, tc.code, got)
		}
	}
}
