package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/picbucket/picbucket/internal/bucket"
)

// BucketCreated is a PutBucket the emulator answered 200: what CloudAudit
// records and EventBridge delivers on the real path.
type BucketCreated struct {
	Bucket, Region, AppID string
	SecretID              string // the key that created it
	Time                  time.Time
}

// BucketAdmin serves COS PutBucket and DeleteBucket (PUT / and DELETE / on
// <bucket>.cos.<region>.myqcloud.com, as cos-go-sdk-v5 Bucket.Put and
// Bucket.Delete send them; COS API "PUT Bucket", "DELETE Bucket") in front
// of Server, with its signature checks, and passes every other request to
// it. OnCreate, when set, is called (in its own goroutine) after each
// bucket is created: cmd/emulator delivers it to the function in the
// EventBridge form (EventBridgePutBucket).
type BucketAdmin struct {
	*Server
	OnCreate func(BucketCreated)
}

// Actions of BucketAdmin, in Request.Action.
const (
	ActionPutBucket    = "PutBucket"
	ActionDeleteBucket = "DeleteBucket"
)

func (b *BucketAdmin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt := parseRoute(r)
	admin := rt.flavor == flavorCOS && rt.bucket != "" && rt.hostErr == nil && r.URL.Path == "/" && r.URL.RawQuery == "" &&
		(r.Method == http.MethodPut || r.Method == http.MethodDelete)
	if !admin {
		b.Server.ServeHTTP(w, r)
		return
	}
	s := b.Server
	rt.action = ActionPutBucket
	if r.Method == http.MethodDelete {
		rt.action = ActionDeleteBucket
	}
	x := &exchange{s: s, w: w, r: r, rt: rt, rec: s.record(r, rt.action)}
	x.requestID, x.traceID = s.newIDs()
	defer s.finished(x.rec)
	w.Header().Set("Server", rt.flavor.server())
	w.Header().Set(rt.flavor.requestIDHeader(), x.requestID)
	account, aerr := s.authenticate(r, rt.flavor, x.rec)
	if aerr != nil {
		x.fail(aerr)
		return
	}
	if err := bucket.ValidateName(rt.bucket); err != nil {
		x.fail(&apiError{http.StatusBadRequest, "InvalidBucketName", "The specified bucket is not valid."})
		return
	}
	if bucket.AppID(rt.bucket) != account {
		x.fail(&apiError{http.StatusForbidden, "AccessDenied", "Access Denied: the bucket's APPID is not the key's account."})
		return
	}
	s.mu.Lock()
	existing := s.buckets[rt.bucket]
	s.mu.Unlock()
	if r.Method == http.MethodDelete {
		if existing == nil || existing.region != rt.region {
			x.fail(&apiError{http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist."})
			return
		}
		s.mu.Lock()
		delete(s.buckets, rt.bucket)
		s.sorted = nil
		s.mu.Unlock()
		x.write(http.StatusNoContent, "", nil)
		return
	}
	if existing != nil {
		x.fail(&apiError{http.StatusConflict, "BucketAlreadyOwnedByYou", "The bucket you tried to create already exists, and you own it."})
		return
	}
	s.AddBucket(rt.bucket, rt.region, false)
	x.write(http.StatusOK, "", nil)
	if b.OnCreate != nil {
		ev := BucketCreated{Bucket: rt.bucket, Region: rt.region, AppID: account, Time: s.now()}
		if auth, err := parseAuthorization(r.Header.Get("Authorization")); err == nil {
			ev.SecretID = auth.secretID
		}
		go b.OnCreate(ev)
	}
}

// EventBridgePutBucket is the event EventBridge delivers to an SCF target
// for a CloudAudit record of a PutBucket: the CloudEvents envelope
// (source cos.cloud.tencent, type cos:CloudEvent:ApiCall) around the
// CloudAudit record, in the form of events/eventbridge-putbucket.json and
// testdata/forms/ (EventBridge's SCF target page; CloudAudit's field table;
// docs/sources.md §3). ownerUin is the account's UIN.
func EventBridgePutBucket(ev BucketCreated, ownerUin int64) ([]byte, error) {
	params, err := json.Marshal(map[string]string{"bucket": ev.Bucket, "region": ev.Region})
	if err != nil {
		return nil, err
	}
	id := strconv.FormatInt(ev.Time.UnixNano(), 16)
	return json.Marshal(map[string]any{
		"specversion": "1.0", "id": id, "source": "cos.cloud.tencent", "type": "cos:CloudEvent:ApiCall",
		"subject": fmt.Sprintf("qcs::cos:%s:uid/%s:%s", ev.Region, ev.AppID, ev.Bucket), "time": ev.Time.UnixMilli(),
		"region": ev.Region, "resource": []string{}, "datacontenttype": "application/json;charset=utf-8", "tags": map[string]string{},
		"data": map[string]any{
			"actionType": "Write", "apiVersion": "2.0", "errorCode": 0, "errorMessage": "", "eventID": id,
			"eventName": "PutBucket", "eventRegion": ev.Region, "eventSource": "cos.cloud.tencent.com",
			"eventTime": ev.Time.UTC().Format("2006-01-02 15:04:05"), "eventType": "ApiCall", "eventVersion": 2,
			"requestID": id, "requestParameters": string(params), "resourceName": "", "resourceType": "cos", "resources": "",
			"sensitiveAction": "false", "sourceIPAddress": "127.0.0.1", "userAgent": "cos-go-sdk-v5",
			"userIdentity": map[string]any{"accountId": ownerUin, "principalId": ownerUin, "secretId": "AKID****", "type": "root", "userName": "root"},
		},
	})
}
