package tcapi

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/picbucket/picbucket/internal/rules"
)

// SCF Invoke (service scf, version 2018-04-16, host scf.tencentcloudapi.com):
// https://cloud.tencent.com/document/api/583/17243 ("运行函数"),
// https://www.tencentcloud.com/document/api/583/17243, and the SDK's
// tencentcloud/scf/v20180416 (models.go InvokeRequestParams, Result). Region
// is required (the function's); FunctionName; InvocationType
// RequestResponse (the default) or Event (asynchronous); Qualifier (default
// $LATEST); ClientContext, the event as JSON, "同步调用最大支持 6MB，异步调用最大支持
// 128 KB"; Namespace (default "default"). The answer is Result, whose
// fields are empty for an asynchronous call except FunctionRequestId. 100
// requests/s.
var apiInvoke = api{SCFService, SCFVersion, "Invoke"}

// SCF's service name and API version.
const (
	SCFService = "scf"
	SCFVersion = "2018-04-16"
)

// MaxEventSize is the largest ClientContext of an asynchronous invocation:
// 128 KB.
const MaxEventSize = 128 << 10

// InvokeInput is one asynchronous invocation.
type InvokeInput struct {
	FunctionName string
	Qualifier    string // version or alias; the API's default ($LATEST) when ""
	Namespace    string // the API's default ("default") when ""
	// Region is the function's region; the client's when "".
	Region string
	// ClientContext is the event: JSON, at most MaxEventSize bytes.
	ClientContext string
}

// InvokeResult identifies an accepted invocation.
type InvokeResult struct {
	RequestID         string // the API request's
	FunctionRequestID string // the execution's (its logs carry it), when the answer has one
}

// Invoke starts the function asynchronously (InvocationType Event) with
// in.ClientContext as its event. An event that is not JSON or larger than
// MaxEventSize is refused before anything is sent. A transport error or a
// throttled answer is retried: the invoked function must be idempotent (SCF
// retries failed asynchronous invocations itself, too).
func (c *Client) Invoke(ctx context.Context, in InvokeInput) (InvokeResult, error) {
	if err := rules.FunctionName(in.FunctionName); err != nil {
		return InvokeResult{}, fmt.Errorf("%w: Invoke: function name %q: %w", ErrInvalid, in.FunctionName, err)
	}
	if len(in.ClientContext) > MaxEventSize {
		return InvokeResult{}, fmt.Errorf("%w: Invoke %s: the event is %d bytes, more than the %d an asynchronous invocation accepts", ErrInvalid, in.FunctionName, len(in.ClientContext), MaxEventSize)
	}
	if !json.Valid([]byte(in.ClientContext)) {
		return InvokeResult{}, fmt.Errorf("%w: Invoke %s: the event (ClientContext) is not JSON", ErrInvalid, in.FunctionName)
	}
	region := in.Region
	if region == "" {
		region = c.opts.Region
	}
	params := map[string]any{
		"FunctionName":   in.FunctionName,
		"InvocationType": "Event",
		"ClientContext":  in.ClientContext,
	}
	if in.Qualifier != "" {
		params["Qualifier"] = in.Qualifier
	}
	if in.Namespace != "" {
		params["Namespace"] = in.Namespace
	}
	var out struct {
		Result    struct{ FunctionRequestId string }
		RequestId string
	}
	if err := c.call(ctx, apiInvoke, region, params, &out); err != nil {
		return InvokeResult{}, err
	}
	return InvokeResult{RequestID: out.RequestId, FunctionRequestID: out.Result.FunctionRequestId}, nil
}

// TriggerInfo is scf TriggerInfo, an item of ListTriggers.
type TriggerInfo struct {
	Type, TriggerName, TriggerDesc, Qualifier string
	Enable                                    uint64
	// ResourceId is deprecated in the models but read by the Serverless
	// toolkit to find a CLS trigger's topic.
	ResourceId string
}

// ListTriggers lists a function's triggers (ListTriggersRequestParams:
// FunctionName, Namespace, Offset, Limit). It fails with
// ResourceNotFound.Function when the function does not exist.
func (c *Client) ListTriggers(ctx context.Context, namespace, function string) ([]TriggerInfo, error) {
	return List("ListTriggers", maxPages, func(offset int) ([]TriggerInfo, int, error) {
		var out struct {
			Triggers   []TriggerInfo
			TotalCount int
		}
		err := c.callHinted(ctx, api{SCFService, SCFVersion, "ListTriggers"}, map[string]any{
			"FunctionName": function, "Namespace": namespace, "Offset": offset, "Limit": pageSize}, &out)
		return out.Triggers, out.TotalCount, err
	})
}
