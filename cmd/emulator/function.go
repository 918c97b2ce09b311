package main

// The bucket-creation path, locally: with -function, the emulator serves
// COS PutBucket and DeleteBucket (emulator.BucketAdmin), the API 3.0
// products (internal/tcapi/tcemu: cam, cls, scf, eb, cloudaudit) on the same
// address, runs the function binary as SCF does (net/rpc, internal/scfrpc),
// and delivers each created bucket to it in the EventBridge form
// (emulator.EventBridgePutBucket), as CloudAudit and EventBridge do on an
// account. The function's log lines go to stderr and to the CLS topic
// picbucket/picbucket-log of the API emulator, where `wire canary` reads
// which trigger enabled the bucket (SearchLog), as it would on CLS.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/picbucket/picbucket/internal/emulator"
	"github.com/picbucket/picbucket/internal/scfrpc"
	"github.com/picbucket/picbucket/internal/tcapi/tcemu"
)

// functionRegion is the demo function's region (serverless.yml's).
const functionRegion = "ap-guangzhou"

// routeByHost sends API 3.0 requests (*.tencentcloudapi.com) to api and
// every other request to cos.
func routeByHost(cos, api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := strings.Cut(r.Host, ":")
		if strings.HasSuffix(strings.ToLower(host), ".tencentcloudapi.com") {
			api.ServeHTTP(w, r)
			return
		}
		cos.ServeHTTP(w, r)
	})
}

// localAccount is the demo account's API 3.0 side: the emulator, its log
// topic, and the running function.
type localAccount struct {
	api     *tcemu.Server
	topicID string
	uin     int64
	cfg     config
	mu      sync.Mutex // one delivery at a time, in order
	fn      *scfrpc.Process
}

// newLocalAccount makes the API emulator with the demo key, the function
// deployed as serverless.yml describes it, and its log topic.
func newLocalAccount(cfg config) *localAccount {
	acct := tcemu.Account{Uin: cfg.uin, AppID: cfg.appID}
	api := tcemu.New(tcemu.Options{Management: acct})
	api.AddKey(tcemu.Key{SecretID: cfg.secretID, SecretKey: cfg.secretKey, Token: cfg.token, Uin: cfg.uin, AppID: cfg.appID})
	api.EventBridge().AddBus(tcemu.Bus{ID: "eb-svc00001", Name: "default", Type: "Cloud", Region: functionRegion})
	ls := api.AddLogset(tcemu.Logset{Uin: cfg.uin, Region: functionRegion, Name: "picbucket"})
	tp := api.AddTopic(tcemu.Topic{Uin: cfg.uin, Region: functionRegion, Name: "picbucket-log", LogsetID: ls.ID})
	return &localAccount{api: api, topicID: tp.ID, uin: cfg.uin, cfg: cfg}
}

// startFunction runs the function binary with the settings a deployment
// gives it, its endpoints set to this emulator.
func (a *localAccount) startFunction(binary, addr string) error {
	env := append(processEnv(os.Environ()), "PICBUCKET_ENDPOINT=http://"+addr, "PICBUCKET_API_ENDPOINT=http://"+addr,
		"TENCENTCLOUD_APPID="+a.cfg.appID, "TENCENTCLOUD_UIN="+strconv.FormatInt(a.uin, 10), "TENCENTCLOUD_REGION="+functionRegion,
		"PICBUCKET_DRY_RUN=false", "LOG_LEVEL=info", "SCF_FUNCTIONNAME=picbucket", "SCF_NAMESPACE=default", "SCF_FUNCTIONVERSION=$LATEST")
	logs := &lineWriter{each: a.logLine}
	p, err := scfrpc.Start(binary, env, logs, logs)
	if err != nil {
		return fmt.Errorf("-function %s: %w", binary, err)
	}
	a.fn = p
	return nil
}

// logLine copies one line of the function's log to stderr and, when it is
// a JSON line, to the log topic.
func (a *localAccount) logLine(line []byte) {
	fmt.Fprintf(os.Stderr, "function: %s\n", line)
	if json.Valid(line) {
		a.api.AddLog(a.topicID, tcemu.LogLine{Time: time.Now(), JSON: string(line)})
	}
}

// deliver invokes the function with the EventBridge event of a created
// bucket, with the credentials SCF gives an invocation.
func (a *localAccount) deliver(ev emulator.BucketCreated) {
	payload, err := emulator.EventBridgePutBucket(ev, a.uin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "emulator: EventBridge event:", err)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	resp, err := a.fn.Invoke(scfrpc.Invocation{Payload: payload, RequestID: fmt.Sprintf("eb-%d", ev.Time.UnixNano()), Timeout: time.Minute,
		Environment: map[string]string{"TENCENTCLOUD_SECRETID": a.cfg.secretID, "TENCENTCLOUD_SECRETKEY": a.cfg.secretKey,
			"TENCENTCLOUD_SESSIONTOKEN": a.cfg.token},
		AppID: a.cfg.appID, Uin: strconv.FormatInt(a.uin, 10), Region: functionRegion, Function: "picbucket"})
	switch {
	case err != nil:
		fmt.Fprintf(os.Stderr, "emulator: EventBridge delivery of %s: %v\n", ev.Bucket, err)
	case resp.Error != nil:
		fmt.Fprintf(os.Stderr, "emulator: EventBridge delivery of %s: the function failed: %s\n", ev.Bucket, resp.Error.Message)
	default:
		fmt.Fprintf(os.Stderr, "emulator: delivered PutBucket %s to the function (EventBridge form)\n", ev.Bucket)
	}
}

// lineWriter calls each with every complete line written to it.
type lineWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	each func([]byte)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for {
		i := bytes.IndexByte(w.buf.Bytes(), '\n')
		if i < 0 && w.buf.Len() < maxLine {
			return len(p), nil
		}
		if i < 0 {
			i = w.buf.Len()
		}
		line := bytes.Clone(w.buf.Bytes()[:i])
		w.buf.Next(min(i+1, w.buf.Len()))
		w.each(line)
	}
}

// maxLine bounds a buffered line: a longer one is passed on in pieces.
const maxLine = 1 << 20

var _ io.Writer = (*lineWriter)(nil)

// processEnv keeps of environ only what any process needs and the Go
// runtime's settings: never the operator's keys (the function could sign
// with them), nor settings that would change the demo (as cmd/local's
// functionEnv). The function gets the demo key with each invocation.
func processEnv(environ []string) []string {
	var env []string
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "PATH", "HOME", "TMPDIR", "TZ", "LANG", "LC_ALL", "GODEBUG", "GOGC", "GOMEMLIMIT", "GOMAXPROCS", "GOTRACEBACK":
			env = append(env, kv)
		}
	}
	return env
}
