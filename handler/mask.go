package handler

import (
	"fmt"

	"github.com/picbucket/picbucket/signer"
)

// The handler's types that hold a key keep it in unexported fields, which
// fmt prints raw (it calls no method of an unexported field): each prints
// only what names it, under every verb.

// String names the account, never its key.
func (a accountKey) String() string {
	return fmt.Sprintf("account{uin:%s appID:%s}", a.uin, a.appID)
}

// Format prints a.String under every verb.
func (a accountKey) Format(f fmt.State, verb rune) { signer.FormatMasked(f, verb, a.String()) }

// String names the invocation's trigger, never its key.
func (inv *invocation) String() string {
	kind := ""
	if inv.ev != nil {
		kind = string(inv.ev.Kind)
	}
	return fmt.Sprintf("invocation{trigger:%s uin:%s}", kind, inv.id.uin)
}

// Format prints inv.String under every verb.
func (inv *invocation) Format(f fmt.State, verb rune) { signer.FormatMasked(f, verb, inv.String()) }

// String tells how many secrets the set masks, never which.
func (s *secretSet) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("secretSet{%d}", len(s.list))
}

// Format prints s.String under every verb.
func (s *secretSet) Format(f fmt.State, verb rune) { signer.FormatMasked(f, verb, s.String()) }
