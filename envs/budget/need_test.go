package budget

import "testing"

func TestNeed(t *testing.T) {
	const m = 1 << 20
	tests := []struct {
		name           string
		peak, estimate int64
		limits         []int64
		want           int64
		rule           string
	}{
		{"measured peak wins", 900 * m, 2048 * m, []int64{512 * m}, 900 * m, RuleMeasuredPeak},
		{"estimate without a peak", 0, 2048 * m, []int64{512 * m, 0}, 2048 * m, RuleEstimate},
		{"every service limited", 0, 0, []int64{512 * m, 1024 * m}, 1536 * m, RuleServiceLimits},
		{"some services limited", 0, 0, []int64{512 * m, 0, 0}, 512*m + 2*DefaultPerService, RuleMixed},
		{"no limits", 0, 0, []int64{0, 0, 0}, 3 * DefaultPerService, RuleDefault},
		{"negative limit counts as none", 0, 0, []int64{-1}, DefaultPerService, RuleDefault},
		{"negative peak and estimate ignored", -1, -1, []int64{0}, DefaultPerService, RuleDefault},
		{"no services", 0, 0, nil, 0, RuleDefault},
	}
	for _, tt := range tests {
		got, rule := Need(tt.peak, tt.estimate, tt.limits)
		if got != tt.want || rule != tt.rule {
			t.Errorf("%s: Need = %d, %q; want %d, %q", tt.name, got, rule, tt.want, tt.rule)
		}
	}
}
