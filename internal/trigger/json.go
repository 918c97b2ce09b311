package trigger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
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

// object is a decoded JSON object whose values are left raw.
type object map[string]json.RawMessage

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
// with a bounded, value-free message.
func checkJSON(data []byte) error {
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

// objectOf decodes raw as a JSON object; path names it in errors.
func objectOf(raw json.RawMessage, path string) (object, error) {
	if k := kindOf(raw); k != kObject {
		return nil, invalidf(path, "want a JSON object, got %s", article(k))
	}
	var o object
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, invalidf(path, "%s", jsonErrText(err, raw))
	}
	if o == nil {
		o = object{}
	}
	return o, nil
}

// strictObject decodes raw as a JSON object whose keys must all be in
// allowed (matched exactly). dst, if non-nil, must point to a struct of
// json.RawMessage fields; it is filled by a json.Decoder with
// DisallowUnknownFields as a second line of defence.
func strictObject(raw json.RawMessage, path string, dst any, allowed ...string) (object, error) {
	o, err := objectOf(raw, path)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ok := false
		for _, a := range allowed {
			if k == a {
				ok = true
				break
			}
		}
		if !ok {
			return nil, invalidf(path, "unknown key %s: want only %s", quote(k), `"`+strings.Join(allowed, `", "`)+`"`)
		}
	}
	if dst != nil {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(dst); err != nil {
			return nil, invalidf(path, "%s", jsonErrText(err, raw))
		}
	}
	return o, nil
}

// arrayOf decodes raw as a JSON array of min..max elements without
// decoding more than max+1 of them.
func arrayOf(raw json.RawMessage, path string, min, max int) ([]json.RawMessage, error) {
	if k := kindOf(raw); k != kArray {
		return nil, invalidf(path, "want a JSON array, got %s", article(k))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // '['
		return nil, invalidf(path, "%s", jsonErrText(err, raw))
	}
	var items []json.RawMessage
	for dec.More() {
		if len(items) == max {
			return nil, invalidf(path, "more than %d entries", max)
		}
		var item json.RawMessage
		if err := dec.Decode(&item); err != nil {
			return nil, invalidf(path, "%s", jsonErrText(err, raw))
		}
		items = append(items, item)
	}
	if _, err := dec.Token(); err != nil && err != io.EOF { // ']'
		return nil, invalidf(path, "%s", jsonErrText(err, raw))
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
