package ports

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRange(t *testing.T) {
	tests := []struct {
		in      string
		want    Range
		wantErr string // a fragment of the error, "" for success
	}{
		{"20000-39999", Range{20000, 39999}, ""},
		{" 30000 - 30031 ", Range{30000, 30031}, ""},
		{"1024-65535", Range{1024, 65535}, ""},
		{"40000-40031", Range{40000, 40031}, ""},
		{"", Range{}, "no dash"},
		{"20000", Range{}, "no dash"},
		{"20000:39999", Range{}, "no dash"},
		{"abc-39999", Range{}, "LO is not a number"},
		{"20000-", Range{}, "HI is not a number"},
		{"-5-100", Range{}, "LO is not a number"},
		{"20000-3e4", Range{}, "HI is not a number"},
		{"80-9000", Range{}, "privileged"},
		{"1023-2000", Range{}, "privileged"},
		{"60000-70000", Range{}, "above 65535"},
		{"39999-20000", Range{}, "LO is above HI"},
		{"40000-40030", Range{}, "smaller than one block"},
		{"40000-40000", Range{}, "smaller than one block"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRange(tt.in)
			if tt.wantErr == "" {
				if err != nil || got != tt.want {
					t.Fatalf("ParseRange(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, ErrInvalidRange) {
				t.Fatalf("ParseRange(%q) = %v, %v; want ErrInvalidRange", tt.in, got, err)
			}
			for _, frag := range []string{tt.wantErr, "WTENV_PORT_RANGE", "LO-HI"} {
				if !strings.Contains(err.Error(), frag) {
					t.Errorf("error %q lacks %q", err, frag)
				}
			}
		})
	}
}

func TestRangeFromEnv(t *testing.T) {
	tests := []struct {
		env     string
		want    Range
		wantErr bool
	}{
		{"", Range{20000, 39999}, false},
		{"30000-30999", Range{30000, 30999}, false},
		{"nonsense", Range{}, true},
	}
	for _, tt := range tests {
		t.Setenv("WTENV_PORT_RANGE", tt.env)
		got, err := RangeFromEnv()
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("WTENV_PORT_RANGE=%q: RangeFromEnv() = %v, %v", tt.env, got, err)
		}
	}
}
