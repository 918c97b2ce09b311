package trigger

import (
	"bytes"
	"encoding/json"
	"testing"
)

// scanSeeds are valid and invalid JSON values of every kind, with escapes,
// nesting and white space where the scanner must step over them.
var scanSeeds = []string{
	`{}`, `[]`, ` { } `, `{"a":1}`, `{"a":1,"a":2}`, `{ "a" : [1, {"b":"]}"}] , "c":"\"}" }`,
	`{"\u0062uckets":[{"bucket":"x"}],"k\"ey":null,"x":-1.5e+3,"y":true,"z":false}`,
	`[1,"a",{"b":[2,3]},[[],[]],null,true,false,-0.1e-2,"\\\"",""]`, "{\n\t\"a\"\r\n:\n\"b\"\n}",
	`"x"`, `7`, `{"a":}`, `[1,]`, `{"a":1`, `[`, ``,
}

// FuzzScan: on any valid JSON object or array, members and elements find
// exactly the members and elements encoding/json decodes (raw, byte for
// byte, in order); on anything else they return without panicking.
func FuzzScan(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		raw := trimSpace(data)
		if !json.Valid(data) {
			if len(raw) > 0 && raw[0] == '{' {
				members(raw, func(_, _ []byte) bool { return true })
			}
			if len(raw) > 0 && raw[0] == '[' {
				elements(raw, func([]byte) bool { return true })
			}
			return
		}
		switch raw[0] {
		case '{':
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.Token() // '{'
			var want [][2]string
			for dec.More() {
				k, _ := dec.Token()
				var v json.RawMessage
				if err := dec.Decode(&v); err != nil {
					t.Fatal(err)
				}
				want = append(want, [2]string{k.(string), string(v)})
			}
			var got [][2]string
			members(raw, func(key, val []byte) bool {
				var k string
				if err := json.Unmarshal(key, &k); err != nil {
					t.Fatalf("key %q: %v", key, err)
				}
				got = append(got, [2]string{k, string(val)})
				return true
			})
			if len(got) != len(want) {
				t.Fatalf("%q: members %q, encoding/json %q", raw, got, want)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%q: member %d is %q, encoding/json %q", raw, i, got[i], want[i])
				}
			}
			// objectOf keeps the last value of each known key, as json.Unmarshal does.
			var all map[string]json.RawMessage
			json.Unmarshal(raw, &all)
			o, err := objectOf(raw, "")
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range all {
				if knownKeys[k] && !bytes.Equal(compact(o[k]), compact(v)) {
					t.Fatalf("%q: objectOf[%q] = %q, json.Unmarshal %q", raw, k, o[k], v)
				}
			}
			for k := range o {
				if _, ok := all[k]; !ok || !knownKeys[k] {
					t.Fatalf("%q: objectOf kept %q", raw, k)
				}
			}
		case '[':
			var want []json.RawMessage
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			var got []json.RawMessage
			elements(raw, func(v []byte) bool { got = append(got, v); return true })
			if len(got) != len(want) {
				t.Fatalf("%q: %d elements, encoding/json %d", raw, len(got), len(want))
			}
			for i := range got {
				if !bytes.Equal(compact(got[i]), compact(want[i])) {
					t.Fatalf("%q: element %d is %q, encoding/json %q", raw, i, got[i], want[i])
				}
			}
		}
	})
}

// compact removes insignificant white space, as encoding/json's
// RawMessage keeps it inside a value.
func compact(raw []byte) []byte {
	var b bytes.Buffer
	json.Compact(&b, raw)
	return b.Bytes()
}
