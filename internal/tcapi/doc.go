// Package tcapi calls the Tencent Cloud API 3.0 actions an organization-wide
// run needs, through the official SDK's generic request support
// (tencentcloud-sdk-go/tencentcloud/common: CommonClient, CommonRequest,
// TC3-HMAC-SHA256 signing, the session token as X-TC-Token):
//
//   - organization 2021-03-31 DescribeOrganizationMembers (ListMemberPages)
//   - sts 2018-08-13 AssumeRole (AssumeRole)
//   - cam 2019-01-16 GetUserAppId (GetUserAppID)
//   - scf 2018-04-16 Invoke (Invoke)
//
// and, one file a product, what go run ./cmd/wire manages and checks:
//
//   - eb 2021-04-16 (eventbridge.go): the event buses, the rule and its SCF
//     target; eventbridge_rule.go applies and removes the rule (one desired
//     state, one read, one diff), dryrun.go fakes the API for a dry run
//   - cloudaudit 2019-03-19 (cloudaudit.go): the tracking sets, with the CLS
//     logsets and topics and the function's triggers; trail.go reads,
//     diffs and plans the organization trail
//   - cls 2020-10-16 (cls.go): a topic's index, its logs, alarms
//   - cam 2019-01-16 (cam.go, camrole.go): the execution role and policy
//   - scf 2018-04-16 (scf.go): the function
//
// plan.go's Plan, Execute and Converge send what a diff planned. Each call's
// documentation is cited where it is defined. Client.Call sends any other
// action through the same machinery. Errors are
// *APIError; IsThrottled and IsRoleRefused classify them. Throttling, HTTP
// 5xx answers and transport errors are retried (Options.Retry, bounded in
// attempts and by the context's deadline). internal/tcapi/tcemu is the
// package's test double: an API 3.0 emulator that verifies the signatures.
//
// # The organization flow
//
// The handler runs it when the function is deployed in an organization's
// management account, with the execution role's key (TENCENTCLOUD_SECRETID,
// TENCENTCLOUD_SECRETKEY, TENCENTCLOUD_SESSIONTOKEN, read per invocation):
//
//  1. ListMemberPages: the member accounts (DescribeOrganizationMembers, 50 a
//     page). The management account may or may not be listed; it is
//     reconciled with the function's own key, never through AssumeRole.
//  2. For each member, AssumeRole(uin, role, SessionName(requestID), d)
//     with role the member's preset OrganizationAccessControlRole (or a
//     configured one) and d no longer than the invocation can still run
//     (time to the deadline, less the margin): the key must not outlive the
//     work, and DurationSeconds is clamped to [1 s, 43200 s]. A member whose
//     role refuses (IsRoleRefused: no such role, not trusted, account
//     unusable) is reported and skipped; a throttled AssumeRole (IsThrottled,
//     after the retries) defers the member to the next run.
//  3. GetUserAppID with the assumed key (Client.With): the member's APPID
//     (bucket names end in -APPID) and UIN, as the member's own account
//     sees them; a mismatch with the listed UIN is an error.
//  4. Reconcile the member's buckets with the assumed key: the same COS/CI
//     code as for the function's own account, with the member's APPID.
//
// When the members do not fit in one invocation, the run fans out: for each
// member (or batch), Invoke the function itself (InvocationType Event,
// the function's Qualifier and Namespace) with the member event in
// ClientContext (JSON, at most 128 KB):
//
//	{"account":{"uin":"100000000001","role":"OrganizationAccessControlRole"},
//	 "reconcile":{…},"dryRun":false}
//
// The invoked function recognises the event, assumes the member's role
// itself (keys are never put in events) and runs steps 2–4 for that one
// account. SCF retries a failed asynchronous invocation (2 retries by
// default) and Invoke itself retries a transport error, so a member run may
// happen more than once: it must be idempotent, as reconciling is.
package tcapi
