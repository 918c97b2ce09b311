package trigger

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"sort"
	"strings"

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
	// a few MiB at most; a larger one can only be a decompression bomb, and
	// is refused before it is held in memory whole.
	MaxCLSDocument = 16 << 20
	// MaxCLSRecords is the largest number of records one CLS document may hold.
	MaxCLSRecords = 100000
)

// parseCLS handles {"clslogs":{"data":"<base64 of gzip>"}}. The document is
// decoded with bounds (MaxCLSDocument, MaxCLSRecords); one record that
// cannot be read becomes a Skip naming its field and costs nothing else;
// records that are not a successful COS PutBucket are counted in one note.
// The buckets are grouped by account (userIdentity.accountId) in
// Request.Accounts.
func parseCLS(top object, _ []byte, opts Options) (*Request, error) {
	logs, err := objectOf(top["clslogs"], "clslogs")
	if err != nil {
		return nil, err
	}
	dataPath := child("clslogs", "data")
	raw, ok := stringOf(logs["data"])
	if !ok {
		return nil, invalidf(dataPath, "want a string (the base64 of a gzip document), got %s", article(kindOf(logs["data"])))
	}
	doc, err := gunzipBase64(raw, dataPath)
	if err != nil {
		return nil, err
	}
	if err := checkJSON(doc); err != nil {
		return nil, invalidf(dataPath, "the decompressed document is not JSON (%s)", err)
	}
	d, err := objectOf(doc, dataPath)
	if err != nil {
		return nil, err
	}
	recordsPath := child("clslogs", "records")
	items, err := arrayOf(d["records"], recordsPath, 0, MaxCLSRecords)
	if err != nil {
		return nil, err
	}

	b := newBuilder(KindCLS)
	accounts := map[string]*builder{}
	var order []string
	ignored := map[string]int{} // why a record was ignored -> how many
	for i, item := range items {
		p := index(recordsPath, i)
		contentPath := child(p, "content")
		b.record(func() error {
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
				ignored[fmt.Sprintf("resourceType %s", quote(s))]++
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
				ignored[why]++
				return nil
			}
			uin, err := accountOf(data, contentPath)
			if err != nil {
				return err
			}
			ab := accounts[uin]
			if ab == nil {
				ab = newBuilder(KindCLS)
			}
			// applyPut changes ab only when it succeeds.
			if err := applyPut(ab, put); err != nil {
				return err
			}
			if accounts[uin] == nil {
				accounts[uin] = ab
				order = append(order, uin)
			}
			return nil
		})
	}
	req, err := b.finish()
	if err != nil {
		return nil, err
	}
	for _, uin := range order {
		ab := accounts[uin]
		a, _ := ab.finish() // ab.records is 0: no error
		req.Accounts = append(req.Accounts, AccountBuckets{Uin: uin, Targets: a.Targets, Locate: a.Locate,
			Reconcile: a.Reconcile, NeedAppID: ab.short, Notes: a.Notes})
	}
	if len(ignored) > 0 {
		req.Notes = append(req.Notes, ignoredNote(ignored))
	}
	return req, nil
}

// gunzipBase64 decodes the base64 of a gzip document, refusing a document
// larger than MaxCLSDocument without reading more than one byte past it.
func gunzipBase64(s, path string) ([]byte, error) {
	gz, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, invalidf(path, "not base64: %s", truncate(err.Error(), 80))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, invalidf(path, "not a gzip document: %s", truncate(err.Error(), 80))
	}
	doc, err := io.ReadAll(io.LimitReader(zr, MaxCLSDocument+1))
	if err != nil {
		return nil, invalidf(path, "the gzip document cannot be read: %s", truncate(err.Error(), 80))
	}
	if len(doc) > MaxCLSDocument {
		return nil, invalidf(path, "the gzip document decompresses to more than MaxCLSDocument (%d MiB) from %d compressed bytes: refused (a CLS trigger event is at most 128 KB)",
			MaxCLSDocument>>20, len(gz))
	}
	return doc, nil
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

// ignoredNote summarises the records not acted on, most frequent first.
func ignoredNote(ignored map[string]int) string {
	type kv struct {
		why string
		n   int
	}
	var all []kv
	total := 0
	for k, v := range ignored {
		all = append(all, kv{k, v})
		total += v
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].n != all[j].n {
			return all[i].n > all[j].n
		}
		return all[i].why < all[j].why
	})
	var parts []string
	for i, e := range all {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("%d other reasons", len(all)-5))
			break
		}
		parts = append(parts, fmt.Sprintf("%s: %d", e.why, e.n))
	}
	return fmt.Sprintf("ignored %d records that are not a successful COS PutBucket (%s)", total, strings.Join(parts, ", "))
}
