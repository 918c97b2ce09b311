// Package shapes builds the adversarial events that memory tests send to
// the decoder: each as large as SCF delivers synchronously (6 MB, the
// decoder's MaxPayload), in the shapes that cost a decoder the most
// memory: many keys, deep nesting, long strings, huge arrays, and CLS
// records of many short keys.
package shapes

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
)

// Size is the size every payload is filled to: just under SCF's 6 MB
// synchronous event limit (trigger.MaxPayload).
const Size = 6<<20 - 64

// CLSDocSize is the size every CLS document is filled to: just under the
// decoder's limit on a decompressed document (trigger.MaxCLSDocument).
const CLSDocSize = 16<<20 - 64

// Shape is one adversarial payload.
type Shape struct {
	// Name says what the payload is, e.g. "manual event, many short keys".
	Name string
	// Payload builds the event, at most Size bytes. Each call builds it
	// anew, so that a measurement holds only the payload it measures.
	Payload func() []byte
}

// keys writes `"<k>":0,` members (distinct short keys) until b holds n bytes.
func keys(b *bytes.Buffer, n int) {
	for i := 0; b.Len() < n; i++ {
		b.WriteString(`"`)
		b.WriteString(strconv.FormatInt(int64(i), 36))
		b.WriteString(`":0,`)
	}
}

// object returns prefix + many short keys + suffix, n bytes at most (the
// members end with a comma, so suffix must begin with a member).
func fill(prefix, suffix string, n int) []byte {
	var b bytes.Buffer
	b.Grow(n)
	b.WriteString(prefix)
	keys(&b, n-len(suffix)-16)
	b.WriteString(suffix)
	return b.Bytes()
}

// quoted returns the JSON string holding prefix + many short keys +
// suffix, at most n bytes long once quoted.
func quoted(prefix, suffix string, n int) string {
	for size := n; ; size = size * 97 / 100 {
		s, _ := json.Marshal(string(fill(prefix, suffix, size)))
		if len(s) <= n {
			return string(s)
		}
	}
}

// All returns every shape.
func All() []Shape {
	var out []Shape
	add := func(name string, build func() []byte) {
		out = append(out, Shape{name, func() []byte {
			p := build()
			if len(p) > Size {
				panic("shapes: " + name + " is larger than Size")
			}
			return p
		}})
	}

	add("manual event, many short keys", func() []byte {
		return fill(`{`, `"buckets":[{"bucket":"photos-1250000000","region":"ap-guangzhou"}]}`, Size)
	})
	add("EventBridge envelope, many short keys in data", func() []byte {
		return fill(`{"specversion":"1.0","source":"cos.cloud.tencent","data":{`, `"eventName":"PutBucket","resourceName":"photos-1250000000","eventRegion":"ap-guangzhou"}}`, Size)
	})
	add("EventBridge envelope, data a string holding many short keys", func() []byte {
		return []byte(`{"specversion":"1.0","source":"cos.cloud.tencent","data":` +
			quoted(`{`, `"eventName":"PutBucket","resourceName":"photos-1250000000","eventRegion":"ap-guangzhou"}`, Size-200) + `}`)
	})
	add("EventBridge envelope, requestParameters many short keys", func() []byte {
		return fill(`{"specversion":"1.0","source":"cos.cloud.tencent","data":{"eventName":"PutBucket","requestParameters":{`, `"bucket":"photos-1250000000","region":"ap-guangzhou"}}}`, Size)
	})
	add("EventList of 10,000 envelopes with many short keys", func() []byte {
		per := Size/10000 - 2
		var b bytes.Buffer
		b.WriteString(`{"EventList":[`)
		for i := 0; i < 10000; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			b.Write(fill(`{"specversion":"1.0","source":"cos.cloud.tencent","data":{`, `"eventName":"PutBucket","resourceName":"photos-1250000000","eventRegion":"ap-guangzhou"}}`, per))
		}
		b.WriteString(`]}`)
		return b.Bytes()
	})
	add("timer event, Message a string holding many short keys", func() []byte {
		return []byte(`{"Type":"Timer","Message":` + quoted(`{`, `"dryRun":true}`, Size-200) + `}`)
	})
	add("timer event, a huge array of numbers", func() []byte { return []byte(`{"Type":"Timer","x":[` + strings.Repeat(`0,`, (Size-40)/2) + `0]}`) })
	add("timer event, a huge array of empty objects", func() []byte { return []byte(`{"Type":"Timer","x":[` + strings.Repeat(`{},`, (Size-40)/3) + `{}]}`) })
	add("timer event, one long string", func() []byte { return []byte(`{"Type":"Timer","x":"` + strings.Repeat(`a`, Size-40) + `"}`) })
	add("timer event, a long string of escapes", func() []byte { return []byte(`{"Type":"Timer","x":"` + strings.Repeat(`\u00e9`, (Size-40)/6) + `"}`) })
	add("timer event, deep nesting repeated", func() []byte {
		deep := strings.Repeat(`[`, 9990) + strings.Repeat(`]`, 9990)
		n := (Size - 40) / (len(deep) + 1)
		return []byte(`{"Type":"Timer","x":[` + strings.Repeat(deep+",", n-1) + deep + `]}`)
	})
	add("COS Records, 10,000 records with many short keys", func() []byte {
		per := Size/10000 - 2
		var b bytes.Buffer
		b.WriteString(`{"Records":[`)
		for i := 0; i < 10000; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			b.Write(fill(`{"cos":{"cosBucket":{`, `"name":"photos","appid":"1250000000","region":"gz"}}}`, per))
		}
		b.WriteString(`]}`)
		return b.Bytes()
	})
	add("COS Records, one record with many short keys", func() []byte {
		return fill(`{"Records":[{"cos":{"cosBucket":{`, `"name":"photos","appid":"1250000000","region":"gz"}}}]}`, Size)
	})
	add("member event, many short keys in reconcile", func() []byte {
		return fill(`{"account":{"uin":"100000000011"},"reconcile":{`, `"regions":["ap-guangzhou"]}}`, Size)
	})
	add("EventBridge envelope, resources a huge array", func() []byte {
		return []byte(`{"specversion":"1.0","source":"cos.cloud.tencent","data":{"eventName":"PutBucket","resources":[` +
			strings.Repeat(`"",`, (Size-200)/3) + `""]}}`)
	})

	// CLS documents, decompressed to CLSDocSize.
	record := func(content string) string { return `{"timestamp":"1716200102000000","content":` + content + `}` }
	cls := func(name string, doc func() []byte) { add(name, func() []byte { return CLSEvent(doc()) }) }
	audit := `"eventName":"PutBucket","resourceType":"cos","errorCode":0,"userIdentity":{"accountId":100000000011},"resourceName":"photos-1250000011","eventRegion":"ap-shanghai"}`
	cls("CLS, one record of many short keys", func() []byte { return fill(`{"records":[`+`{"timestamp":"1","content":{`, audit+`}]}`, CLSDocSize) })
	cls("CLS, one record whose content is a string of many short keys", func() []byte { return []byte(`{"records":[` + record(quoted(`{`, audit, CLSDocSize-200)) + `]}`) })
	cls("CLS, 100,000 records of many short keys", func() []byte {
		per := CLSDocSize/100000 - 2
		var b bytes.Buffer
		b.WriteString(`{"records":[`)
		for i := 0; i < 100000; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			b.Write(fill(`{"timestamp":"1","content":{`, `"eventName":"PutObject"}}`, per))
		}
		b.WriteString(`]}`)
		return b.Bytes()
	})
	cls("CLS, one record holding one long string", func() []byte {
		return []byte(`{"records":[` + record(`"`+strings.Repeat("a", CLSDocSize-100)+`"`) + `]}`)
	})
	cls("CLS, many short keys beside the records", func() []byte { return fill(`{`, `"records":[`+record(`{`+audit)+`]}`, CLSDocSize) })
	cls("CLS, many short keys beside the records, then a syntax error", func() []byte { return fill(`{`, `"records":[`+record(`{`+audit)+`]`, CLSDocSize) })
	cls("CLS, four records of many short keys, each just under MaxCLSValue", func() []byte {
		var b bytes.Buffer
		b.WriteString(`{"records":[`)
		for i := 0; i < 4; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			b.Write(fill(`{"timestamp":"1","content":{`, audit+`}`, 4<<20-200))
		}
		b.WriteString(`]}`)
		return b.Bytes()
	})
	cls("CLS, 100,000 records each of a distinct eventName", func() []byte {
		return Records(`{"timestamp":"1","content":{"eventName":"`, `"}}`, 100000, Distinct80)
	})
	cls("CLS, 100,000 records each of a distinct resourceType", func() []byte {
		return Records(`{"timestamp":"1","content":{"resourceType":"`, `"}}`, 100000, Distinct80)
	})
	return out
}

// Records is a CLS document of n records (at most trigger.MaxCLSRecords,
// 100,000), the i-th prefix + value(i) + suffix.
func Records(prefix, suffix string, n int, value func(i int) string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"records":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(prefix)
		b.WriteString(value(i))
		b.WriteString(suffix)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// Distinct80 is a value of 80 bytes (as long as a message echoes,
// clip.MaxEcho) that differs for each i.
func Distinct80(i int) string {
	n := strconv.Itoa(i)
	return strings.Repeat("x", 80-len(n)) + n
}

// CLSEvent is the CLS trigger event whose decompressed document is doc.
func CLSEvent(doc []byte) []byte {
	var gz bytes.Buffer
	w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	w.Write(doc)
	w.Close()
	return []byte(`{"clslogs":{"data":"` + base64.StdEncoding.EncodeToString(gz.Bytes()) + `"}}`)
}
