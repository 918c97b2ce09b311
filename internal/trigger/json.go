package trigger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// JSON value kinds, as named in messages.
const (
	kMissing = "no value"
	kNull    = "null"
	kObject  = "object"
	kArray   = "array"
	kString  = "string"
	kNumber  = "number"
	kBool    = "boolean"
)

// object holds the members of a JSON object that the package reads: only
// keys in knownKeys are kept, so that an object of a million keys costs no
// more than one of a few (the others are only scanned past). Values are
// sub-slices of the text the object was read from, never copies.
type object map[string]json.RawMessage

// knownKeys are the only keys an object keeps: every key any shape reads.
var knownKeys = map[string]bool{}

func init() {
	for _, k := range []string{
		// shapes
		"EventList", "specversion", "source", "data", "Type", "Message", "Records", "clslogs",
		"buckets", "reconcile", "dryRun", "account",
		// EventBridge envelope and CloudAudit record
		"subject", "subjuect", "region", "eventName", "errorCode", "apiErrorCode", "resourceName", "resourceType",
		"resources", "requestParameters", "eventRegion", "userIdentity", "accountId",
		"bucket", "Bucket", "bucketName", "BucketName", "Region",
		// CLS record
		"content",
		// COS record
		"cos", "cosBucket", "name", "appid", "cosRegion", "s3Region",
		// options, manual and member events
		"regions", "include", "exclude", "uin", "role",
	} {
		knownKeys[k] = true
	}
}

// has reports whether key is present (with any value, null included).
func (o object) has(key string) bool {
	_, ok := o[key]
	return ok
}

// kindOf names the kind of a raw JSON value from its first byte. The value
// is assumed to be syntactically valid (it comes out of a validated document).
func kindOf(raw json.RawMessage) string {
	raw = trimSpace(raw)
	if len(raw) == 0 {
		return kMissing
	}
	switch raw[0] {
	case '{':
		return kObject
	case '[':
		return kArray
	case '"':
		return kString
	case 't', 'f':
		return kBool
	case 'n':
		return kNull
	default:
		return kNumber
	}
}

// absent reports whether a field is missing or JSON null.
func absent(raw json.RawMessage) bool {
	k := kindOf(raw)
	return k == kMissing || k == kNull
}

// checkJSON reports whether data is one syntactically valid JSON value,
// with a bounded, value-free message. It allocates nothing for valid JSON.
func checkJSON(data []byte) error {
	if json.Valid(data) {
		return nil
	}
	var v json.RawMessage
	if err := json.Unmarshal(data, &v); err != nil {
		return errors.New(jsonErrText(err, data))
	}
	return nil
}

// jsonErrText renders an encoding/json error briefly. A syntax error is
// placed by line and column (1-based, columns in bytes) in data, the text
// that was being decoded, as an editor shows them.
func jsonErrText(err error, data []byte) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := lineCol(data, se.Offset)
		return fmt.Sprintf("%s at line %d, column %d", truncate(se.Error(), 120), line, col)
	}
	return truncate(err.Error(), 160)
}

// lineCol turns the offset encoding/json reports (the bytes read when the
// error was found, so the offending byte is the last of them) into a line
// and a column, both counted from 1.
func lineCol(data []byte, offset int64) (line, col int) {
	off := int(max(0, min(offset, int64(len(data)))))
	before := data[:off]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = off - (bytes.LastIndexByte(before, '\n') + 1)
	return line, max(col, 1)
}

// objectOf reads raw, a valid JSON value, as a JSON object; path names
// it in errors. Only the members whose key is in knownKeys are kept (the
// last of duplicate keys wins, as with encoding/json).
func objectOf(raw json.RawMessage, path string) (object, error) {
	if k := kindOf(raw); k != kObject {
		return nil, invalidf(path, "want a JSON object, got %s", article(k))
	}
	o := object{}
	var err error
	members(trimSpace(raw), func(key, val []byte) bool {
		if k, ok := knownKey(key); ok {
			o[k] = val
			return true
		}
		if hasEscape(key) { // a key written with escapes may still be one we read
			var k string
			if err = json.Unmarshal(key, &k); err != nil {
				return false
			}
			if knownKeys[k] {
				o[k] = val
			}
		}
		return true
	})
	if err != nil {
		return nil, invalidf(path, "%s", jsonErrText(err, raw))
	}
	return o, nil
}

// knownKey returns the key of a raw JSON key string without escapes when
// it is in knownKeys.
func knownKey(key []byte) (string, bool) {
	inner := key[1 : len(key)-1]
	if !knownKeys[string(inner)] { // no allocation
		return "", false
	}
	return string(inner), true
}

// keyText decodes a raw JSON key string.
func keyText(key []byte) string {
	if !hasEscape(key) {
		return string(key[1 : len(key)-1])
	}
	var k string
	json.Unmarshal(key, &k) // key comes out of valid JSON
	return k
}

func hasEscape(key []byte) bool { return bytes.IndexByte(key, '\\') >= 0 }

// strictObject reads raw as a JSON object whose keys must all be in
// allowed, matched exactly (so "Buckets" is not "buckets", as it would be
// to encoding/json's case-insensitive matching). The first unknown key in
// sorted order is named.
func strictObject(raw json.RawMessage, path string, allowed ...string) (object, error) {
	if k := kindOf(raw); k != kObject {
		return nil, invalidf(path, "want a JSON object, got %s", article(k))
	}
	unknown, found := "", false
	members(trimSpace(raw), func(key, _ []byte) bool {
		k := keyText(key)
		if !slices.Contains(allowed, k) && (!found || k < unknown) {
			unknown, found = k, true
		}
		return true
	})
	if found {
		return nil, invalidf(path, "unknown key %s: want only %s", quote(unknown), `"`+strings.Join(allowed, `", "`)+`"`)
	}
	return objectOf(raw, path)
}

// arrayOf reads raw, a valid JSON value, as a JSON array of min..max
// elements, without reading past the (max+1)th; the elements are
// sub-slices of raw.
func arrayOf(raw json.RawMessage, path string, min, max int) ([]json.RawMessage, error) {
	if k := kindOf(raw); k != kArray {
		return nil, invalidf(path, "want a JSON array, got %s", article(k))
	}
	var items []json.RawMessage
	over := false
	elements(trimSpace(raw), func(val []byte) bool {
		if len(items) == max {
			over = true
			return false
		}
		items = append(items, val)
		return true
	})
	if over {
		return nil, invalidf(path, "more than %d entries", max)
	}
	if len(items) < min {
		return nil, invalidf(path, "has %d entries, want at least %d", len(items), min)
	}
	return items, nil
}

// stringOf decodes raw if it is a JSON string.
func stringOf(raw json.RawMessage) (string, bool) {
	if kindOf(raw) != kString {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// requireString decodes a JSON string field; anything else is an error.
func requireString(raw json.RawMessage, path string) (string, error) {
	s, ok := stringOf(raw)
	if !ok {
		return "", invalidf(path, "want a JSON string, got %s", article(kindOf(raw)))
	}
	return s, nil
}

// optString looks up key in o: it returns found=false when the key is
// missing, null or the empty string, and an error when it is not a string.
func optString(o object, path, key string) (s, fieldPath string, found bool, err error) {
	raw := o[key]
	fieldPath = child(path, key)
	if absent(raw) {
		return "", fieldPath, false, nil
	}
	s, err = requireString(raw, fieldPath)
	if err != nil {
		return "", fieldPath, false, err
	}
	return s, fieldPath, s != "", nil
}

// embeddedObject accepts a JSON object or a JSON string whose content is a
// JSON object (CloudAudit and SCF both double-encode fields).
func embeddedObject(raw json.RawMessage, path string) (object, error) {
	switch k := kindOf(raw); k {
	case kObject:
		return objectOf(raw, path)
	case kString:
		s, _ := stringOf(raw)
		inner := trimSpace([]byte(s))
		if err := checkJSON(inner); err != nil {
			return nil, invalidf(path, "want a JSON object or a string holding one, got a string that is not JSON (%s)", err)
		}
		if k := kindOf(inner); k != kObject {
			return nil, invalidf(path, "want a JSON object or a string holding one, got a string holding %s", article(k))
		}
		return objectOf(inner, path)
	default:
		return nil, invalidf(path, "want a JSON object or a string holding one, got %s", article(k))
	}
}

// describe renders a raw value briefly and safely for messages.
func describe(raw json.RawMessage) string {
	switch k := kindOf(raw); k {
	case kMissing:
		return "(absent)"
	case kString:
		s, _ := stringOf(raw)
		return quote(s)
	case kNumber, kBool, kNull:
		return truncate(string(trimSpace(raw)), maxEcho)
	default:
		return article(k)
	}
}

// nonZero reports whether an error-code field says the call failed: a
// number other than 0, or a string other than "", "0" (or another zero
// number). Booleans count as failed when true; objects and arrays count as
// failed, so unknown encodings skip the record rather than act on it.
func nonZero(raw json.RawMessage) bool {
	switch kindOf(raw) {
	case kMissing, kNull:
		return false
	case kNumber:
		f, err := strconv.ParseFloat(string(trimSpace(raw)), 64)
		return err != nil || f != 0
	case kString:
		s, _ := stringOf(raw)
		s = strings.TrimSpace(s)
		if s == "" {
			return false
		}
		f, err := strconv.ParseFloat(s, 64)
		return err != nil || f != 0
	case kBool:
		return string(trimSpace(raw)) == "true"
	default:
		return true
	}
}

// article prefixes a kind name with "a"/"an" (or leaves null alone).
func article(kind string) string {
	switch kind {
	case kNull, kMissing:
		return kind
	case kObject, kArray:
		return "an " + kind
	default:
		return "a " + kind
	}
}
