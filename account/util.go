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
