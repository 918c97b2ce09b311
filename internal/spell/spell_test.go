package spell

import "testing"

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"abc", "abc", 0},
		{"ap-guangzou", "ap-guangzhou", 1},
		{"kitten", "sitting", 3},
		{"flaw", "lawn", 2},
	}
	for _, tt := range tests {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := Distance(tt.b, tt.a); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (symmetric)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestNearest(t *testing.T) {
	tests := []struct {
		s          string
		candidates []string
		want       string
		dist       int
	}{
		{"x", nil, "", -1},
		{"ap-shangai", []string{"ap-guangzhou", "ap-shanghai", "ap-beijing"}, "ap-shanghai", 1},
		{"ab", []string{"ac", "ad"}, "ac", 1}, // a tie: the first given
		{"exact", []string{"exactly", "exact"}, "exact", 0},
	}
	for _, tt := range tests {
		got, d := Nearest(tt.s, tt.candidates)
		if got != tt.want || d != tt.dist {
			t.Errorf("Nearest(%q, %q) = %q, %d; want %q, %d", tt.s, tt.candidates, got, d, tt.want, tt.dist)
		}
	}
}
