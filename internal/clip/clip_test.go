package clip

import (
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"photos":                 `"photos"`,
		"a\r\nb":                 `"a\r\nb"`,
		strings.Repeat("x", 100): `"` + strings.Repeat("x", 80) + `"…(100 bytes)`,
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestString(t *testing.T) {
	if got := String("abcdef", 3); got != "abc…(6 bytes)" {
		t.Errorf("String = %q", got)
	}
	if got := String("abc", 3); got != "abc" {
		t.Errorf("String = %q", got)
	}
}
