package ciservice

import (
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []ID
		err  string
	}{
		{in: "pic", want: []ID{Pic}},
		{in: "pic,media,doc", want: []ID{Pic, Media, Doc}},
		{in: " Media , pic,media ", want: []ID{Media, Pic}},
		{in: "file,ai,asr", want: []ID{File, AI, ASR}},
		{in: "pic,medai", err: `unknown service "medai" (did you mean "media"?)`},
		{in: "docs", err: `did you mean "doc"?`},
		{in: "asrr", err: `did you mean "asr"?`},
		{in: " , ", err: "no service named"},
	} {
		got, err := Parse(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Parse(%q) error = %v, want one containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("Parse(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestTable(t *testing.T) {
	paths, ops := map[string]bool{}, map[string]bool{}
	for _, s := range All() {
		if paths[s.Path] || ops[s.CreateOp] || ops[s.ListOp] {
			t.Errorf("%s: path or op repeated", s.ID)
		}
		paths[s.Path], ops[s.CreateOp], ops[s.ListOp] = true, true, true
		if !strings.HasPrefix(s.CreateAction, "ci:") || !strings.HasPrefix(s.ListAction, "ci:") {
			t.Errorf("%s: CAM actions %q %q", s.ID, s.CreateAction, s.ListAction)
		}
		if got, ok := ByOp(s.CreateOp); !ok || got.ID != s.ID {
			t.Errorf("ByOp(%s) = %v", s.CreateOp, got.ID)
		}
	}
	if m := Get(Media); m.CreateAction != "ci:CreateMediaBucket" || m.ListAction != "ci:DescribeMediaBuckets" {
		t.Errorf("media's CAM actions = %q, %q", m.CreateAction, m.ListAction)
	}
}

func TestServes(t *testing.T) {
	if ok, _ := Get(Media).Serves("ap-guangzhou"); !ok {
		t.Error("media not served in ap-guangzhou")
	}
	ok, why := Get(Doc).Serves("ap-shenzhen-fsi")
	if ok || !strings.Contains(why, "ap-shenzhen-fsi") {
		t.Errorf("Serves(ap-shenzhen-fsi) = %v %q", ok, why)
	}
	s := Get(ASR)
	s.unserved = map[string]bool{"eu-moscow": true}
	if ok, why := s.Serves("eu-moscow"); ok || !strings.Contains(why, "speech recognition is not offered in eu-moscow") {
		t.Errorf("Serves = %v %q", ok, why)
	}
}
