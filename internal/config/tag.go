package config

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Tag is one bucket tag a setting names: PICBUCKET_SKIP_TAG and
// PICBUCKET_REQUIRE_TAG take "key" (any value) or "key=value".
type Tag struct {
	Key   string
	Value string
	// AnyValue is set when the setting gave only a key.
	AnyValue bool
}

// Limits of a COS bucket tag (PutBucketTagging,
// https://cloud.tencent.com/document/api/436/34838): keys of 1 to 127
// characters, values of up to 255.
const (
	maxTagKey   = 127
	maxTagValue = 255
)

// ParseTag reads "key" or "key=value". The error says what form is wanted.
func ParseTag(v string) (Tag, error) {
	key, value, hasValue := strings.Cut(v, "=")
	key, value = strings.TrimSpace(key), strings.TrimSpace(value)
	const want = "want one tag, key or key=value, such as picbucket=off"
	switch {
	case key == "":
		return Tag{}, errors.New(want + ": the key is empty")
	case strings.ContainsAny(v, ",;&"):
		return Tag{}, errors.New(want + " (one tag only)")
	case hasValue && strings.Contains(value, "="):
		return Tag{}, errors.New(want + ": more than one =")
	case utf8.RuneCountInString(key) > maxTagKey || utf8.RuneCountInString(value) > maxTagValue:
		return Tag{}, errors.New(want + ": a COS tag key has at most 127 characters and its value at most 255")
	case strings.ContainsFunc(v, unicode.IsControl):
		return Tag{}, errors.New(want + ": control characters")
	}
	return Tag{Key: key, Value: value, AnyValue: !hasValue}, nil
}

// In reports whether tags carry t.
func (t Tag) In(tags map[string]string) bool {
	v, ok := tags[t.Key]
	return ok && (t.AnyValue || v == t.Value)
}

// String returns the tag as the setting gives it.
func (t Tag) String() string {
	if t.AnyValue {
		return t.Key
	}
	return t.Key + "=" + t.Value
}
