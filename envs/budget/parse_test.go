package budget

import (
	"errors"
	"strings"
	"testing"
)

func TestParseBudget(t *testing.T) {
	tests := []struct {
		in   string
		want Spec
	}{
		{"12GiB", Spec{Bytes: 12 << 30}},
		{"12gib", Spec{Bytes: 12 << 30}},
		{"12 GiB", Spec{Bytes: 12 << 30}},
		{"  12GiB  ", Spec{Bytes: 12 << 30}},
		{"12000MB", Spec{Bytes: 12_000_000_000}},
		{"12 GB", Spec{Bytes: 12_000_000_000}},
		{"12gb", Spec{Bytes: 12_000_000_000}},
		{"512MiB", Spec{Bytes: 512 << 20}},
		{"1.5GiB", Spec{Bytes: 3 << 29}},
		{"2TiB", Spec{Bytes: 2 << 40}},
		{"1TB", Spec{Bytes: 1_000_000_000_000}},
		{"100KB", Spec{Bytes: 100_000}},
		{"100KiB", Spec{Bytes: 100 << 10}},
		{"1073741824", Spec{Bytes: 1 << 30}},
		{"1073741824B", Spec{Bytes: 1 << 30}},
		{"4g", Spec{Bytes: 4 << 30}},
		{"512m", Spec{Bytes: 512 << 20}},
		{"512M", Spec{Bytes: 512 << 20}},
		{"75%", Spec{Percent: 75}},
		{"75 %", Spec{Percent: 75}},
		{"100%", Spec{Percent: 100}},
		{"12.5%", Spec{Percent: 12.5}},
	}
	for _, tt := range tests {
		got, err := ParseBudget(tt.in)
		if err != nil {
			t.Errorf("ParseBudget(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseBudget(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseBudgetErrors(t *testing.T) {
	tests := []struct {
		in, why string
	}{
		{"", "it is empty"},
		{"   ", "it is empty"},
		{"0", "it must be above zero"},
		{"0GiB", "it must be above zero"},
		{"0.1", "it must be above zero"},
		{"-1GiB", "it is negative"},
		{"-1", "it is negative"},
		{"150%", "a percentage must be above 0 and at most 100"},
		{"0%", "a percentage must be above 0 and at most 100"},
		{"-5%", "a percentage must be above 0 and at most 100"},
		{"%", "the percentage is not a number"},
		{"abc%", "the percentage is not a number"},
		{"abc", "it does not start with a number"},
		{"GiB", "it does not start with a number"},
		{"NaN", "it does not start with a number"},
		{"12 parsecs", `unknown unit "parsecs"`},
		{"12GIBB", `unknown unit "GIBB"`},
		{"1e9", `unknown unit "e9"`},
		{"12 G iB", `unknown unit "G iB"`},
		{"1.2.3GiB", "it does not start with a number"},
		{"99999999TiB", "it is too large"},
	}
	for _, tt := range tests {
		_, err := ParseBudget(tt.in)
		if err == nil {
			t.Errorf("ParseBudget(%q) succeeded, want an error", tt.in)
			continue
		}
		if !errors.Is(err, ErrInvalidBudget) {
			t.Errorf("ParseBudget(%q) = %v, not ErrInvalidBudget", tt.in, err)
		}
		msg := err.Error()
		for _, part := range []string{"WTENV_MEMORY_BUDGET", `"` + tt.in + `"`, tt.why, "12GiB", "75%"} {
			if !strings.Contains(msg, part) {
				t.Errorf("ParseBudget(%q) error %q does not contain %q", tt.in, msg, part)
			}
		}
	}
}

func TestParseBudgetMessage(t *testing.T) {
	_, err := ParseBudget("150%")
	want := `invalid WTENV_MEMORY_BUDGET "150%": a percentage must be above 0 and at most 100; ` +
		`want a size such as 12GiB, 512MiB, 1.5GiB, 12000MB or 1073741824 (bytes), ` +
		`or a percentage of memory in (0,100] such as 75%`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}
}

func TestLimit(t *testing.T) {
	const g = 1 << 30
	tests := []struct {
		name                   string
		spec                   Spec
		engineTotal, hostTotal int64
		want                   int64
	}{
		{"unset is 80% of the smaller total", Spec{}, 10 * g, 16 * g, 8 * g},
		{"host smaller than engine", Spec{Percent: 50}, 16 * g, 8 * g, 4 * g},
		{"engine smaller than host", Spec{Percent: 50}, 8 * g, 16 * g, 4 * g},
		{"host unknown uses engine", Spec{Percent: 75}, 8 * g, 0, 6 * g},
		{"engine unknown uses host", Spec{Percent: 75}, 0, 8 * g, 6 * g},
		{"both unknown is no budget", Spec{Percent: 75}, 0, 0, 0},
		{"100%", Spec{Percent: 100}, 8 * g, 0, 8 * g},
		{"bytes as given", Spec{Bytes: 12 * g}, 8 * g, 16 * g, 12 * g},
		{"bytes with totals unknown", Spec{Bytes: 12 * g}, 0, 0, 12 * g},
	}
	for _, tt := range tests {
		if got := Limit(tt.spec, tt.engineTotal, tt.hostTotal); got != tt.want {
			t.Errorf("%s: Limit = %d, want %d", tt.name, got, tt.want)
		}
	}
}
