package config

import (
	"errors"
	"strings"
	"testing"
)

func TestParseTag(t *testing.T) {
	tests := []struct {
		in      string
		want    Tag
		wantErr string
	}{
		{in: "picbucket", want: Tag{Key: "picbucket", AnyValue: true}},
		{in: "picbucket=off", want: Tag{Key: "picbucket", Value: "off"}},
		{in: " owner = team a ", want: Tag{Key: "owner", Value: "team a"}},
		{in: "picbucket=", want: Tag{Key: "picbucket", Value: ""}},
		{in: "=off", wantErr: "the key is empty"},
		{in: "a=1,b=2", wantErr: "one tag only"},
		{in: "a=b=c", wantErr: "more than one ="},
		{in: strings.Repeat("k", 128), wantErr: "at most 127"},
		{in: "a\x00b", wantErr: "control characters"},
	}
	for _, tt := range tests {
		got, err := ParseTag(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseTag(%q) = %v, %v; want an error containing %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseTag(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestTagIn(t *testing.T) {
	tags := map[string]string{"picbucket": "off", "team": ""}
	for _, tt := range []struct {
		tag  string
		want bool
	}{{"picbucket", true}, {"picbucket=off", true}, {"picbucket=on", false}, {"team", true}, {"team=", true}, {"owner", false}} {
		tag, err := ParseTag(tt.tag)
		if err != nil {
			t.Fatal(err)
		}
		if got := tag.In(tags); got != tt.want {
			t.Errorf("%q in %v = %v, want %v", tt.tag, tags, got, tt.want)
		}
	}
}

func TestTagSettings(t *testing.T) {
	env := map[string]string{SkipTag: "picbucket=off", RequireTag: "a,b"}
	c, err := Load(func(k string) string { return env[k] })
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), RequireTag) || strings.Contains(err.Error(), SkipTag) {
		t.Fatalf("err = %v, want one naming %s only", err, RequireTag)
	}
	if c.SkipTag == nil || c.SkipTag.String() != "picbucket=off" {
		t.Errorf("SkipTag = %v", c.SkipTag)
	}
}
