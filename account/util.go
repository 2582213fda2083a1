package account

import (
	"fmt"
	"iter"
)

// collect drains a store listing before the caller writes, since a transaction must
// not write while it ranges over a listing.
func collect[T any](seq iter.Seq2[T, error]) iter.Seq2[T, error] {
	type item struct {
		v   T
		err error
	}
	var items []item
	for v, err := range seq {
		items = append(items, item{v, err})
		if err != nil {
			break
		}
	}
	return func(yield func(T, error) bool) {
		for _, it := range items {
			if !yield(it.v, it.err) {
				return
			}
		}
	}
}

func errorsJoinPlan(feature, plan string) error {
	return fmt.Errorf("%w: plan %q does not include %s (D21)", ErrPlan, plan, feature)
}

func seatError(used, limit int) error {
	return fmt.Errorf("%w: %d of %d seats in use (D20)", ErrSeatLimit, used, limit)
}

func errorsExists(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrExists}, args...)...)
}
