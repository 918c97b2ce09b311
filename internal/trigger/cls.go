package trigger

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/picbucket/picbucket/internal/bucket"
	"github.com/picbucket/picbucket/internal/rules"
)

// CLS trigger events: a CLS topic that receives the organization's
// CloudAudit records (a CloudAudit tracking set delivering to CLS) invokes
// the function with {"clslogs":{"data":"<base64>"}}, where data is the
// base64 of a gzip document
// {"topic_id":"…","topic_name":"…","records":[{"timestamp":"<µs>","content":"…"}]}
// (SCF's CLS trigger document: https://cloud.tencent.com/document/product/583/49587,
// in English https://www.tencentcloud.com/document/product/583/38845). Each
// record's content is one log line: here one CloudAudit record, JSON text
// (or an object), with the fields CloudAudit documents (eventName,
// resourceType, resourceName, eventRegion, requestParameters, errorCode,
// userIdentity.accountId = the root account the call was made in;
// intlcloud-documents 开发者服务/云审计/操作指南/查看操作记录事件详情_intl_en.md).

const (
	// MaxCLSDocument is the largest decompressed CLS document accepted:
	// 16 MiB. A CLS trigger event is at most 128 KB (SCF's asynchronous
	// event limit, which the CLS trigger splits its batches to fit), and
	// CloudAudit JSON compresses about 10 to 20 times, so a real document is
	// a few MiB at most; a larger one can only be a decompression bomb. The
	// document is never held in memory whole: it is decoded as it is
	// decompressed, one record at a time, and refused as soon as it grows
	// past this bound.
	MaxCLSDocument = 16 << 20
	// MaxCLSRecords is the largest number of records one CLS document may hold.
	MaxCLSRecords = 100000
	// MaxCLSAccounts is the largest number of accounts one CLS event acts
	// in: a successful PutBucket record of a further account becomes a Skip
	// naming this limit (the hourly timer covers that account's buckets).
	// With MaxTargets counted across all the accounts of the event, it
	// bounds what one event can fan out to.
	MaxCLSAccounts = 100
	// MaxCLSValue is the largest single value (a record, or a token beside
	// the records) of a CLS document: CLS keeps at most 1 MB in one log
	// value (https://www.tencentcloud.com/document/product/614/78959), which
	// JSON escaping can swell a few times. A larger value did not come from
	// CLS, and the document is refused when the decoder has buffered this
	// much of one value: this, not the document, bounds the memory a record
	// takes (the decoder holds a whole value at once).
	MaxCLSValue = 4 << 20
)

// maxNestingDepth is encoding/json's limit on nesting (its scanner's
// maxNestingDepth): a document nested deeper is not JSON to json.Unmarshal,
// so the streaming decoder refuses it too.
const maxNestingDepth = 10000

// parseCLS handles {"clslogs":{"data":"<base64 of gzip>"}}. The document is
// decoded with bounds (MaxCLSDocument, MaxCLSRecords) as it is
// decompressed, one record at a time, so memory does not grow with the
// document; the errors are those of reading it whole: a stream error (not
// gzip, truncated, too large) first, then a syntax error placed by line and
// column, then a document of the wrong shape. One record that cannot be
// read becomes a Skip naming its field and costs nothing else; records that
// are not a successful COS PutBucket are counted in one note. The buckets
// are grouped by account (userIdentity.accountId) in Request.Accounts, at
// most MaxCLSAccounts accounts and MaxTargets buckets in all.
func parseCLS(top object, _ []byte, opts Options) (*Request, error) {
	logs, err := objectOf(top["clslogs"], "clslogs")
	if err != nil {
		return nil, err
	}
	dataPath := child("clslogs", "data")
	if kindOf(logs["data"]) != kString {
		return nil, invalidf(dataPath, "want a string (the base64 of a gzip document), got %s", article(kindOf(logs["data"])))
	}
	raw := stringBytes(logs["data"])
	gzLen, zr, err := openGzipBase64(raw, dataPath)
	if err != nil {
		return nil, err
	}
	stream := &clsStream{zr: zr}
	p := &clsParser{dec: json.NewDecoder(stream), stream: stream, dataPath: dataPath}
	p.dec.UseNumber() // a number is skipped, never converted (1e400 is JSON too)
	syntaxErr := p.document()
	if syntaxErr == nil {
		syntaxErr = p.trailing()
	}
	stream.valueEnd = 0
	if err := stream.drain(dataPath, gzLen); err != nil {
		return nil, err
	}
	if errors.Is(syntaxErr, errValueTooLarge) {
		return nil, invalidf(cmp.Or(p.valuePath, dataPath), "a value of more than MaxCLSValue (%d MiB), or as much white space before one: refused (CLS keeps at most 1 MB in one log value)", MaxCLSValue>>20)
	}
	if syntaxErr != nil {
		return nil, notJSON(raw, dataPath, stream.n, syntaxErr)
	}
	if p.shapeErr != nil {
		return nil, p.shapeErr
	}
	if p.records == nil {
		return nil, invalidf(child("clslogs", "records"), "want a JSON array, got %s", article(kMissing))
	}
	return p.records.finish()
}

// stringBytes returns the content of the JSON string raw: a sub-slice of
// raw when it holds no escape (base64 never needs one), else a decoded copy.
func stringBytes(raw json.RawMessage) []byte {
	raw = trimSpace(raw)
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1]
	}
	s, _ := stringOf(raw)
	return []byte(s)
}

// openGzipBase64 opens the gzip document whose base64 is src, decoding
// both as it is read (the compressed document is never held whole), and
// returns the compressed length.
func openGzipBase64(src []byte, path string) (int, *gzip.Reader, error) {
	src = bytes.TrimSpace(src)
	n, err := io.Copy(io.Discard, base64.NewDecoder(base64.StdEncoding, bytes.NewReader(src)))
	if err != nil {
		return 0, nil, invalidf(path, "not base64: %s", truncate(err.Error(), 80))
	}
	zr, err := gzip.NewReader(base64.NewDecoder(base64.StdEncoding, bytes.NewReader(src)))
	if err != nil {
		return 0, nil, invalidf(path, "not a gzip document: %s", truncate(err.Error(), 80))
	}
	return int(n), zr, nil
}

// gunzipBase64 decodes the base64 of a gzip document whole, refusing a
// document larger than MaxCLSDocument without reading more than one byte
// past it; size, when known, is the document's length. Only the error
// path of parseCLS (to place a syntax error by line and column) and tests
// hold a document whole.
func gunzipBase64(src []byte, path string, size int64) ([]byte, error) {
	gzLen, zr, err := openGzipBase64(src, path)
	if err != nil {
		return nil, err
	}
	stream := &clsStream{zr: zr}
	var doc bytes.Buffer
	doc.Grow(int(min(size, clsDocumentLimit)) + bytes.MinRead)
	doc.ReadFrom(stream)
	if err := stream.drain(path, gzLen); err != nil {
		return nil, err
	}
	return doc.Bytes(), nil
}

// notJSON is the error for a document that is not JSON: the message
// json.Unmarshal gives, placed by line and column, for which the document
// (size bytes, known to be readable and at most MaxCLSDocument) is
// decompressed again whole. streamErr, the streaming decoder's error, is
// the fallback should json.Unmarshal accept the document.
func notJSON(raw []byte, dataPath string, size int64, streamErr error) error {
	doc, err := gunzipBase64(raw, dataPath, size)
	if err != nil {
		return err
	}
	why := checkJSON(doc)
	if why == nil {
		why = errors.New(jsonErrText(streamErr, doc))
	}
	return invalidf(dataPath, "the decompressed document is not JSON (%s)", why)
}

// clsStream reads the decompressed document, refusing it past
// MaxCLSDocument without reading more than one byte past it, and keeps the
// first error of the gzip stream.
type clsStream struct {
	zr   *gzip.Reader
	n    int64 // bytes read
	over bool  // more than MaxCLSDocument bytes
	err  error // the gzip stream's error, other than io.EOF
	// valueEnd, when not 0, is the most bytes the decoder may have read
	// while it reads the current value (see clsParser.value).
	valueEnd int64
}

// errValueTooLarge stops the decoder at MaxCLSValue of one value.
var errValueTooLarge = errors.New("a value is larger than MaxCLSValue")

// clsValueSlack is what the decoder may have read ahead of the value it
// reads, beyond MaxCLSValue: its buffer's unread part.
const clsValueSlack = 64 << 10

// clsDocumentLimit is MaxCLSDocument; tests of the boundary under the race
// detector (which makes scanning 16 MiB take a minute) lower it.
var clsDocumentLimit int64 = MaxCLSDocument

// errTooLarge stops the decoder at MaxCLSDocument; drain reports it.
var errTooLarge = errors.New("the document is larger than MaxCLSDocument")

func (s *clsStream) Read(b []byte) (int, error) {
	switch {
	case s.over:
		return 0, errTooLarge
	case s.err != nil:
		return 0, s.err
	}
	if s.valueEnd > 0 {
		if s.n >= s.valueEnd {
			return 0, errValueTooLarge
		}
		if left := s.valueEnd - s.n; int64(len(b)) > left {
			b = b[:left]
		}
	}
	if left := clsDocumentLimit + 1 - s.n; int64(len(b)) > left {
		b = b[:left]
	}
	n, err := s.zr.Read(b)
	s.n += int64(n)
	if s.n > clsDocumentLimit {
		s.over = true
		return n, errTooLarge
	}
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

// drain reads the rest of the stream (the gzip trailer's checksum is
// checked only at its end) and returns the stream's error: too large, or
// not readable.
func (s *clsStream) drain(path string, gzLen int) error {
	if !s.over && s.err == nil {
		io.Copy(io.Discard, s) // s keeps the error
	}
	switch {
	case s.over:
		return invalidf(path, "the gzip document decompresses to more than MaxCLSDocument (%d MiB) from %d compressed bytes: refused (a CLS trigger event is at most 128 KB)",
			MaxCLSDocument>>20, gzLen)
	case s.err != nil:
		return invalidf(path, "the gzip document cannot be read: %s", truncate(s.err.Error(), 80))
	}
	return nil
}

// clsParser walks the document {"topic_id":…,"topic_name":…,"records":[…]}
// token by token, decoding one record at a time.
type clsParser struct {
	dec      *json.Decoder
	stream   *clsStream
	dataPath string
	depth    int // arrays and objects open
	// valuePath names the record being read, for errValueTooLarge.
	valuePath string
	shapeErr  error       // the document is JSON but not an object
	records   *clsRecords // what the last "records" key holds (the last value wins, as with json.Unmarshal)
}

// errTooDeep is a syntax error: json.Unmarshal refuses the document.
var errTooDeep = errors.New("exceeded max depth")

// value bounds what the decoder may read for the next value (a token or a
// record) to MaxCLSValue: the decoder buffers a whole value, so a longer
// one would take its size in memory.
func (p *clsParser) value(path string) {
	p.valuePath = path
	p.stream.valueEnd = p.dec.InputOffset() + clsValueLimit + clsValueSlack
}

// clsValueLimit is MaxCLSValue; tests lower it.
var clsValueLimit int64 = MaxCLSValue

// token reads the next token, counting the nesting.
func (p *clsParser) token() (json.Token, error) {
	p.value("")
	tok, err := p.dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'), json.Delim('['):
		p.depth++
		if p.depth > maxNestingDepth {
			return nil, errTooDeep
		}
	case json.Delim('}'), json.Delim(']'):
		p.depth--
	}
	return tok, nil
}

// skipFrom reads the rest of the value that begins with tok.
func (p *clsParser) skipFrom(tok json.Token) error {
	if tok != json.Delim('{') && tok != json.Delim('[') {
		return nil
	}
	for outer := p.depth - 1; p.depth > outer; {
		if _, err := p.token(); err != nil {
			return err
		}
	}
	return nil
}

// document reads the document and returns its syntax error, if any; a
// document of the wrong shape sets p.shapeErr.
func (p *clsParser) document() error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		p.shapeErr = invalidf(p.dataPath, "want a JSON object, got %s", article(tokenKind(tok)))
		return p.skipFrom(tok)
	}
	for p.dec.More() {
		key, err := p.token()
		if err != nil {
			return err
		}
		if key != "records" {
			tok, err := p.token()
			if err != nil {
				return err
			}
			if err := p.skipFrom(tok); err != nil {
				return err
			}
			continue
		}
		if err := p.recordList(); err != nil {
			return err
		}
	}
	_, err = p.token() // '}'
	return err
}

// recordList reads the value of "records", each record as it comes.
func (p *clsParser) recordList() error {
	recordsPath := child("clslogs", "records")
	p.records = newCLSRecords()
	tok, err := p.token()
	if err != nil {
		return err
	}
	if tok != json.Delim('[') {
		p.records.err = invalidf(recordsPath, "want a JSON array, got %s", article(tokenKind(tok)))
		return p.skipFrom(tok)
	}
	for i := 0; p.dec.More(); i++ {
		if i == MaxCLSRecords {
			p.records.err = invalidf(recordsPath, "more than %d entries", MaxCLSRecords)
			return p.skipFrom(json.Delim('['))
		}
		var item json.RawMessage
		p.value(index(recordsPath, i))
		if err := p.dec.Decode(&item); err != nil {
			return err
		}
		// A record can hold at most len/2 levels; only a long one can be too deep.
		if len(item) >= 2*(maxNestingDepth-p.depth) && p.depth+nestingDepth(item) > maxNestingDepth {
			return errTooDeep
		}
		p.records.add(index(recordsPath, i), item)
	}
	_, err = p.token() // ']'
	return err
}

// trailing checks that only white space follows the document.
func (p *clsParser) trailing() error {
	rest := io.MultiReader(p.dec.Buffered(), p.stream)
	buf := make([]byte, 32<<10)
	for {
		n, err := rest.Read(buf)
		if len(trimSpace(buf[:n])) > 0 {
			return errors.New("invalid character after top-level value")
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// nestingDepth is the deepest nesting of arrays and objects in the valid
// JSON value raw.
func nestingDepth(raw []byte) int {
	depth, deepest, inString, escaped := 0, 0, false, false
	for _, c := range raw {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// tokenKind names the kind of the value a token begins.
func tokenKind(tok json.Token) string {
	switch tok.(type) {
	case json.Delim:
		if tok == json.Delim('{') {
			return kObject
		}
		return kArray
	case string:
		return kString
	case json.Number, float64:
		return kNumber
	case bool:
		return kBool
	default:
		return kNull
	}
}

// clsRecords accumulates what the records of one CLS document ask for.
type clsRecords struct {
	b        *builder            // the event's Skips and notes
	accounts map[string]*builder // by account
	order    []string            // accounts in order of first record
	ignored  ignoredTally        // why records were ignored, and how many
	targets  int                 // buckets of all accounts, against MaxTargets
	err      error               // the records cannot be read at all
}

func newCLSRecords() *clsRecords {
	return &clsRecords{b: newBuilder(KindCLS), accounts: map[string]*builder{}}
}

// add reads the record at path p.
func (c *clsRecords) add(p string, item json.RawMessage) {
	contentPath := child(p, "content")
	c.b.record(func() error {
		rec, err := objectOf(item, p)
		if err != nil {
			return err
		}
		if absent(rec["content"]) {
			return invalidf(contentPath, "required: want the log line, a CloudAudit record")
		}
		data, err := embeddedObject(rec["content"], contentPath)
		if err != nil {
			return err
		}
		if s, ok := stringOf(data["resourceType"]); ok && s != "" && s != "cos" {
			c.ignored.add("resourceType " + quote(s))
			return nil
		}
		r := &record{data: data, dataPath: contentPath, label: "PutBucket record " + p, shortOK: true}
		put, skip, err := decodeAudit(r)
		switch {
		case err != nil:
			return err
		case skip != nil:
			why := "failed PutBucket"
			if s, ok := stringOf(data["eventName"]); !ok || s != putBucket {
				why = "eventName " + describe(data["eventName"])
			}
			c.ignored.add(why)
			return nil
		}
		uin, err := accountOf(data, contentPath)
		if err != nil {
			return err
		}
		ab := c.accounts[uin]
		if ab == nil && len(c.order) == MaxCLSAccounts {
			s := Skip{Region: put.region, Reason: fmt.Sprintf("%s: account %s is beyond MaxCLSAccounts (%d accounts in one event): left to the hourly timer",
				r.label, uin, MaxCLSAccounts)}
			if bucket.ValidateName(put.found.name) == nil {
				s.Bucket = put.found.name // as the record gives it: no APPID completes it here
			}
			c.b.skip(s)
			return nil
		}
		if ab == nil {
			ab = newBuilder(KindCLS)
			ab.shared = &c.targets
		}
		// applyPut changes ab only when it succeeds.
		if err := applyPut(ab, put); err != nil {
			return err
		}
		if c.accounts[uin] == nil {
			c.accounts[uin] = ab
			c.order = append(c.order, uin)
		}
		return nil
	})
}

// finish returns the Request of the records read.
func (c *clsRecords) finish() (*Request, error) {
	if c.err != nil {
		return nil, c.err
	}
	req, err := c.b.finish()
	if err != nil {
		return nil, err
	}
	for _, uin := range c.order {
		ab := c.accounts[uin]
		a, _ := ab.finish() // ab.records is 0: no error
		req.Accounts = append(req.Accounts, AccountBuckets{Uin: uin, Targets: a.Targets, Locate: a.Locate,
			Reconcile: a.Reconcile, NeedAppID: ab.short, Notes: a.Notes})
	}
	if c.ignored.total > 0 {
		req.Notes = append(req.Notes, c.ignored.note())
	}
	return req, nil
}

// accountOf reads userIdentity.accountId, the root account the call was
// made in: a string or a number of 5 to 20 digits.
func accountOf(data object, path string) (string, error) {
	idPath := child(path, "userIdentity")
	if absent(data["userIdentity"]) {
		return "", invalidf(idPath, "required: want the caller's identity, with accountId (the account the bucket belongs to)")
	}
	id, err := embeddedObject(data["userIdentity"], idPath)
	if err != nil {
		return "", err
	}
	p := child(idPath, "accountId")
	var uin string
	switch raw := id["accountId"]; kindOf(raw) {
	case kString:
		uin, _ = stringOf(raw)
	case kNumber:
		uin = string(trimSpace(raw))
	default:
		return "", invalidf(p, "required: want the account ID (UIN), digits, got %s", describe(raw))
	}
	if rules.UIN(uin) != nil {
		return "", invalidf(p, "want an account ID (UIN), 5 to 20 digits, got %s", quote(uin))
	}
	return uin, nil
}

// maxIgnoredReasons bounds the distinct reasons an ignoredTally keeps
// apart: each record may carry its own eventName or resourceType, and
// 100,000 distinct ones (MaxCLSRecords) would otherwise cost a map entry
// each, about 30 MiB of heap for a 0.4 MB event.
const maxIgnoredReasons = 32

// ignoredTally counts the records not acted on by why: the first
// maxIgnoredReasons distinct reasons each, any later one in other.
type ignoredTally struct {
	by    map[string]int
	other int // records whose reason came after maxIgnoredReasons others
	total int
}

// add counts one record ignored for why.
func (t *ignoredTally) add(why string) {
	t.total++
	if _, ok := t.by[why]; !ok && len(t.by) >= maxIgnoredReasons {
		t.other++
		return
	}
	if t.by == nil {
		t.by = map[string]int{}
	}
	t.by[why]++
}

// note summarises the records not acted on, most frequent first.
func (t *ignoredTally) note() string {
	type kv struct {
		why string
		n   int
	}
	var all []kv
	for k, v := range t.by {
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].n != all[j].n {
			return all[i].n > all[j].n
		}
		return all[i].why < all[j].why
	})
	var parts []string
	other := t.other
	for i, e := range all {
		if i >= 5 {
			other += e.n
			continue
		}
		parts = append(parts, fmt.Sprintf("%s: %d", e.why, e.n))
	}
	if other > 0 {
		parts = append(parts, fmt.Sprintf("other reasons: %d", other))
	}
	return fmt.Sprintf("ignored %d records that are not a successful COS PutBucket (%s)", t.total, strings.Join(parts, ", "))
}
