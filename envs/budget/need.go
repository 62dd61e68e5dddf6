package budget

// The rules Need reports, for messages.
const (
	RuleMeasuredPeak  = "measured peak"
	RuleEstimate      = "memory.estimate"
	RuleServiceLimits = "service limits"
	RuleMixed         = "service limits and default per service"
	RuleDefault       = "default per service"
)

// DefaultPerService is what a service without a memory limit is assumed to
// need before its stack has ever run.
//
// Measured here, idle services are small: Postgres about 19 MiB, Redis about
// 4 MiB, a Go service about 2 MiB; outside the container each one adds about
// 13 MiB of shim and each published port about 3 MiB of proxy. Real
// application services under load use far more, and the first measured peak
// replaces this guess anyway. 256 MiB per service errs on the side of
// refusing a stack before the machine starts swapping.
const DefaultPerService = 256 << 20

// Need estimates what a stack needs before it runs, by the first rule that
// applies, and names the rule:
//
//  1. peak, the measured peak of this project's last run, when above 0;
//  2. estimate, memory.estimate from wtenv.yaml, when above 0;
//  3. the sum of the services' memory limits, one entry per service, 0 for
//     a service without a limit. When only some services have a limit, the
//     others count DefaultPerService each (RuleMixed): a limit is the best
//     figure there is for its service, and ignoring the others would
//     undercount;
//  4. DefaultPerService for each service.
//
// A stack without services needs nothing.
func Need(peak, estimate int64, serviceLimits []int64) (int64, string) {
	if peak > 0 {
		return peak, RuleMeasuredPeak
	}
	if estimate > 0 {
		return estimate, RuleEstimate
	}
	var sum int64
	limited := 0
	for _, l := range serviceLimits {
		if l > 0 {
			sum += l
			limited++
		} else {
			sum += DefaultPerService
		}
	}
	switch {
	case limited == 0:
		return sum, RuleDefault
	case limited == len(serviceLimits):
		return sum, RuleServiceLimits
	default:
		return sum, RuleMixed
	}
}
