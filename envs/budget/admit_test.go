package budget

import (
	"encoding/json"
	"slices"
	"testing"
)

const gib = 1 << 30

func TestHolds(t *testing.T) {
	tests := []struct {
		reserved, measured, want int64
	}{
		{2 * gib, 0, 2 * gib},
		{2 * gib, 1 * gib, 2 * gib},
		{2 * gib, 3 * gib, 3 * gib},
		{0, 3 * gib, 3 * gib},
		{0, 0, 0},
		{-1, 0, 0},
	}
	for _, tt := range tests {
		h := Holder{Reserved: tt.reserved, Measured: tt.measured}
		if got := h.Holds(); got != tt.want {
			t.Errorf("Holder{Reserved: %d, Measured: %d}.Holds() = %d, want %d", tt.reserved, tt.measured, got, tt.want)
		}
	}
}

func TestAdmit(t *testing.T) {
	holders := []Holder{
		{Project: "a", Reserved: 2 * gib},
		{Project: "b", Reserved: 1 * gib, Measured: 4 * gib},
		{Project: "c", Measured: 2 * gib},
		{Project: "d"},
	}
	tests := []struct {
		name        string
		limit, need int64
		holders     []Holder
		used        int64
		admit       bool
	}{
		{"fits", 12 * gib, 2 * gib, holders, 8 * gib, true},
		{"exactly equal admits", 12 * gib, 4 * gib, holders, 8 * gib, true},
		{"one byte over refuses", 12 * gib, 4*gib + 1, holders, 8 * gib, false},
		{"no budget always admits", 0, 100 * gib, holders, 8 * gib, true},
		{"negative budget is no budget", -1, 100 * gib, holders, 8 * gib, true},
		{"empty machine", 4 * gib, 4 * gib, nil, 0, true},
		{"too big for the whole budget", 4 * gib, 5 * gib, nil, 0, false},
	}
	for _, tt := range tests {
		d := Admit(tt.limit, tt.need, tt.holders)
		if d.Used != tt.used || d.Admit != tt.admit || d.Limit != tt.limit || d.Need != tt.need {
			t.Errorf("%s: Admit = %+v, want used %d admit %v", tt.name, d, tt.used, tt.admit)
		}
	}
}

func TestAdmitSortsACopy(t *testing.T) {
	holders := []Holder{
		{Project: "small", Reserved: 1 * gib},
		{Project: "tie-b", Measured: 2 * gib},
		{Project: "big", Reserved: 1 * gib, Measured: 5 * gib},
		{Project: "tie-a", Reserved: 2 * gib},
	}
	orig := slices.Clone(holders)
	d := Admit(1*gib, 1, holders)
	var got []string
	for _, h := range d.Holders {
		got = append(got, h.Project)
	}
	want := []string{"big", "tie-a", "tie-b", "small"}
	if !slices.Equal(got, want) {
		t.Errorf("Holders order = %v, want %v", got, want)
	}
	if !slices.Equal(holders, orig) {
		t.Errorf("Admit reordered the caller's slice: %v", holders)
	}
}

func TestSummarize(t *testing.T) {
	holders := []Holder{{Reserved: 2 * gib}, {Reserved: 1 * gib, Measured: 3 * gib}}
	tests := []struct {
		name  string
		limit int64
		want  Budget
	}{
		{"room left", 12 * gib, Budget{LimitBytes: 12 * gib, UsedBytes: 5 * gib, FreeBytes: 7 * gib}},
		{"exactly full", 5 * gib, Budget{LimitBytes: 5 * gib, UsedBytes: 5 * gib, FreeBytes: 0}},
		{"over budget, free not negative", 4 * gib, Budget{LimitBytes: 4 * gib, UsedBytes: 5 * gib, FreeBytes: 0}},
		{"no budget", 0, Budget{UsedBytes: 5 * gib}},
	}
	for _, tt := range tests {
		if got := Summarize(tt.limit, holders); got != tt.want {
			t.Errorf("%s: Summarize = %+v, want %+v", tt.name, got, tt.want)
		}
	}
	if got := Summarize(12*gib, nil); got != (Budget{LimitBytes: 12 * gib, FreeBytes: 12 * gib}) {
		t.Errorf("Summarize with no holders = %+v", got)
	}
}

func TestBudgetJSON(t *testing.T) {
	b, err := json.Marshal(Budget{LimitBytes: 3, UsedBytes: 2, FreeBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"limit_bytes":3,"used_bytes":2,"free_bytes":1}`; string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}
}
