package tcapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
)

// CAM GetUserAppId (service cam, version 2019-01-16, host cam.tencentcloudapi.com):
// https://cloud.tencent.com/document/api/598/70416 ("获取用户AppId"),
// https://www.tencentcloud.com/document/api/598/45982, and the SDK's
// tencentcloud/cam/v20190116 (models.go GetUserAppIdResponseParams). No
// parameters; Region optional (none is sent). The answer describes the
// calling key's account: Uin (string), OwnerUin (string), AppId (integer).
// 20 requests/s.
var apiGetUserAppId = api{"cam", "2019-01-16", "GetUserAppId"}

// Account is the account a key belongs to, as GetUserAppId describes it.
type Account struct {
	AppID    string // the APPID buckets are named with (<name>-<APPID>)
	Uin      string // the calling identity's UIN
	OwnerUin string // the account's (root) UIN
}

// GetUserAppID asks CAM which account the client's key belongs to: with a
// key from AssumeRole, the member's APPID and UIN.
func (c *Client) GetUserAppID(ctx context.Context) (Account, error) {
	var out struct {
		Uin, OwnerUin flexString
		AppId         flexString
	}
	if err := c.call(ctx, apiGetUserAppId, "", nil, &out); err != nil {
		return Account{}, err
	}
	if _, err := strconv.ParseUint(string(out.AppId), 10, 64); err != nil || out.AppId == "0" {
		return Account{}, &APIError{Service: apiGetUserAppId.service, Action: apiGetUserAppId.action,
			Code: "ClientError.ParseJsonError", Message: "the answer has no numeric AppId"}
	}
	return Account{AppID: string(out.AppId), Uin: string(out.Uin), OwnerUin: string(out.OwnerUin)}, nil
}

// flexString decodes a JSON string or number (kept exact) into a string.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return errors.New("want a string or a number")
		}
		*f = flexString(n.String())
	}
	return nil
}
