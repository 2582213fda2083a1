package account

import "fmt"

func errorsJoinPlan(feature, plan string) error {
	return fmt.Errorf("%w: plan %q does not include %s (D21)", ErrPlan, plan, feature)
}

func seatError(used, limit int) error {
	return fmt.Errorf("%w: %d of %d seats in use (D20)", ErrSeatLimit, used, limit)
}

func errorsExists(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrExists}, args...)...)
}

// withinLimit refuses with ErrLimit when n records of what already fill limit (0: no
// limit) in tenant on plan.
func withinLimit(what string, n, limit int, tenant fmt.Stringer, plan string) error {
	if limit > 0 && n >= limit {
		return fmt.Errorf("%w: %v holds %d %s, as many as plan %q allows", ErrLimit, tenant, n, what, plan)
	}
	return nil
}
