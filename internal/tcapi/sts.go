package tcapi

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/picbucket/picbucket/internal/rules"
	"github.com/picbucket/picbucket/signer"
)

// STS AssumeRole (service sts, version 2018-08-13, host sts.tencentcloudapi.com):
// https://cloud.tencent.com/document/product/598/33164 ("申请扮演角色"),
// https://www.tencentcloud.com/document/api/1150/49456 (AssumeRole), and the
// SDK's tencentcloud/sts/v20180813 (models.go AssumeRoleRequestParams,
// AssumeRoleResponseParams, Credentials; errors.go). Region is required;
// RoleArn "qcs::cam::uin/<uin>:roleName/<name>"; RoleSessionName 2–128 of
// [\w+=,.@-]; DurationSeconds "default 7200, at most 43200"; the answer is
// Credentials{Token, TmpSecretId, TmpSecretKey}, ExpiredTime (Unix seconds)
// and Expiration (ISO 8601, UTC). 600 requests/s. "此接口可以支持永久密钥或临时密钥调用":
// a temporary key (the SCF execution role's) may call it.
var apiAssumeRole = api{"sts", "2018-08-13", "AssumeRole"}

// DefaultRole is the role Tencent Cloud Organization presets in each member
// account for the management account ("OrganizationAccessControlRole";
// docs/sources.md §6, where its source is an open item); members invited
// before the feature may lack it.
const DefaultRole = "OrganizationAccessControlRole"

// The DurationSeconds range. The API documents the maximum (43200) and the
// default (7200) but no minimum; the official SDK's RoleArnProvider accepts
// 1…43200 ("should be in the range of 0~43200s", 0 refused), so the floor is
// one second.
const (
	MinDuration = time.Second
	MaxDuration = 43200 * time.Second
)

// SessionPrefix starts every session name SessionName makes.
const SessionPrefix = "picbucket-"

var sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,128}$`)

// ValidSessionName reports whether s is a RoleSessionName the API accepts:
// 2–128 characters of [\w+=,.@-] (\w being ASCII letters, digits and _).
func ValidSessionName(s string) bool { return sessionNameRE.MatchString(s) }

// SessionName makes a RoleSessionName from an invocation's request id:
// "picbucket-<id>", each character the API does not allow replaced with
// "-", cut to 128 characters. CloudAudit records it, so an assumed key's
// actions can be traced to the invocation.
func SessionName(requestID string) string {
	var b strings.Builder
	b.WriteString(SessionPrefix)
	for _, r := range requestID {
		if b.Len() >= 128 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("_+=,.@-", r):
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	s := b.String()
	if len(s) > 128 {
		s = s[:128]
	}
	return strings.TrimRight(s, "-")
}

// DurationSeconds is the DurationSeconds AssumeRole sends for d: whole
// seconds, rounded down (a key never outlives what the caller asked for),
// clamped to [MinDuration, MaxDuration].
func DurationSeconds(d time.Duration) int64 {
	s := int64(d / time.Second)
	lo, hi := int64(MinDuration/time.Second), int64(MaxDuration/time.Second)
	return min(max(s, lo), hi)
}

// RoleArn is the resource description of the role named role in account uin.
func RoleArn(uin, role string) string {
	return "qcs::cam::uin/" + uin + ":roleName/" + role
}

// AssumeRole asks STS for a temporary key of role (DefaultRole when "") in
// the account uin, valid for duration (see DurationSeconds: pass no more
// than the invocation can still run). It returns the key and its expiry.
// A refusal (IsRoleRefused) is not retried; throttling is, within ctx.
func (c *Client) AssumeRole(ctx context.Context, uin, role, sessionName string, duration time.Duration) (signer.Credentials, time.Time, error) {
	if role == "" {
		role = DefaultRole
	}
	if err := rules.UIN(uin); err != nil {
		return signer.Credentials{}, time.Time{}, fmt.Errorf("%w: AssumeRole: account uin %q: %w", ErrInvalid, uin, err)
	}
	if err := rules.RoleName(role); err != nil {
		return signer.Credentials{}, time.Time{}, fmt.Errorf("%w: AssumeRole: role name %q: %w", ErrInvalid, role, err)
	}
	if !ValidSessionName(sessionName) {
		return signer.Credentials{}, time.Time{}, fmt.Errorf("%w: AssumeRole: RoleSessionName %q: want 2-128 of letters, digits and +=,.@_- (see SessionName)", ErrInvalid, sessionName)
	}
	secs := DurationSeconds(duration)
	params := map[string]any{
		"RoleArn":         RoleArn(uin, role),
		"RoleSessionName": sessionName,
		"DurationSeconds": secs,
	}
	var out struct {
		Credentials struct{ Token, TmpSecretId, TmpSecretKey string }
		ExpiredTime int64
		Expiration  string
	}
	sent := time.Now()
	if err := c.call(ctx, apiAssumeRole, c.opts.Region, params, &out); err != nil {
		return signer.Credentials{}, time.Time{}, err
	}
	cred := signer.Credentials{SecretID: out.Credentials.TmpSecretId, SecretKey: out.Credentials.TmpSecretKey, SessionToken: out.Credentials.Token}
	if cred.SecretID == "" || cred.SecretKey == "" || cred.SessionToken == "" {
		return signer.Credentials{}, time.Time{}, &APIError{Service: apiAssumeRole.service, Action: apiAssumeRole.action,
			Code: "ClientError.ParseJsonError", Message: "the answer has no complete Credentials (TmpSecretId, TmpSecretKey, Token)"}
	}
	var exp time.Time
	switch {
	case out.ExpiredTime > 0:
		exp = time.Unix(out.ExpiredTime, 0)
	case out.Expiration != "":
		if t, err := time.Parse(time.RFC3339, out.Expiration); err == nil {
			exp = t
		}
	}
	if exp.IsZero() {
		exp = sent.Add(time.Duration(secs) * time.Second)
	}
	return cred, exp, nil
}
