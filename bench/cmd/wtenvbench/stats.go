package main

import (
	"fmt"
	"slices"
	"time"
)

// samples are the timings of one measurement. Medians are what the report
// compares: this machine is shared, and one slow outlier says nothing
// about wtenv.
type samples []time.Duration

func (s samples) sorted() []time.Duration {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

func (s samples) median() time.Duration {
	if len(s) == 0 {
		return 0
	}
	c := s.sorted()
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

func (s samples) min() time.Duration {
	if len(s) == 0 {
		return 0
	}
	return slices.Min(s)
}

func (s samples) max() time.Duration {
	if len(s) == 0 {
		return 0
	}
	return slices.Max(s)
}

// spread renders "median (min–max, n=N)".
func (s samples) spread() string {
	if len(s) == 0 {
		return "–"
	}
	return fmt.Sprintf("%s (%s–%s, n=%d)", dur(s.median()), dur(s.min()), dur(s.max()), len(s))
}

// ratio is a/b of two medians, rendered with two decimals.
func ratio(a, b samples) string {
	if len(a) == 0 || len(b) == 0 || b.median() == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", float64(a.median())/float64(b.median()))
}

// dur renders a duration in ms below ten seconds (the interesting range
// for status and warm up), else in seconds.
func dur(d time.Duration) string {
	switch {
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	case d < 10*time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	default:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
}

// mib renders bytes in MiB with one decimal.
func mib(b int64) string {
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}
