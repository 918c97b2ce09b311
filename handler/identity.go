package handler

import (
	"cmp"
	"strings"

	"github.com/picbucket/picbucket/internal/config"
	"github.com/picbucket/picbucket/signer"
	"github.com/tencentyun/scf-go-lib/functioncontext"
)

// identity is the function's own: the account it runs in and where it
// runs, read once per invocation from the environment SCF sets, then from
// the invocation's context (functioncontext).
type identity struct {
	uin       string // the own account's UIN; "" when unknown
	appID     string // its APPID (TENCENTCLOUD_APPID or the context); "" when unknown
	region    string // the function's region: Invoke and AssumeRole need one
	function  string // the function's name; "" when unknown (the fan-out needs it)
	qualifier string // its version, $LATEST by default
	namespace string // its namespace, default by default
}

// newIdentity reads the function's identity.
func newIdentity(cfg config.Config, fc *functioncontext.FunctionContext, getenv func(string) string) identity {
	env := func(k string) string { return strings.TrimSpace(getenv(k)) }
	return identity{
		uin:       cmp.Or(env("TENCENTCLOUD_UIN"), fc.TencentcloudUin),
		appID:     cmp.Or(cfg.AppID, fc.TencentcloudAppID),
		region:    cmp.Or(env("TENCENTCLOUD_REGION"), fc.TencentcloudRegion, "ap-guangzhou"),
		function:  cmp.Or(env("SCF_FUNCTIONNAME"), fc.FunctionName),
		qualifier: cmp.Or(env("SCF_FUNCTIONVERSION"), fc.FunctionVersion, "$LATEST"),
		namespace: cmp.Or(env("SCF_NAMESPACE"), fc.Namespace, "default"),
	}
}

// ownKey is the function's own account, signed for with its own key.
func (inv *invocation) ownKey() accountKey {
	return accountKey{uin: inv.id.uin, appID: inv.id.appID, source: signer.Env{Getenv: inv.getenv}, credErr: inv.credErr}
}
