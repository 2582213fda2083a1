package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tenantry/tenantry/store"
)

// SQLSTATE codes the store maps to its sentinel errors.
const (
	codeSerializationFailure = "40001"
	codeDeadlock             = "40P01"
	codeUniqueViolation      = "23505"
	codeForeignKeyViolation  = "23503"
)

// isConflict reports whether err is, or wraps, a serialization failure or a deadlock.
func isConflict(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == codeSerializationFailure || pe.Code == codeDeadlock)
}

// wrapErr turns an error of pgx into the store's: the context's own error when ctx is
// done; one matching store.ErrConflict, ErrExists or ErrNotFound (and still wrapping
// the *pgconn.PgError) for the SQLSTATEs that mean so; else err with op.
func wrapErr(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case codeSerializationFailure, codeDeadlock:
			return fmt.Errorf("pgstore: %s: %w: %w", op, store.ErrConflict, err)
		case codeUniqueViolation:
			return fmt.Errorf("pgstore: %s: %w: %w", op, store.ErrExists, err)
		case codeForeignKeyViolation:
			return fmt.Errorf("pgstore: %s: %w: %w", op, store.ErrNotFound, err)
		}
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("pgstore: %s: %w", op, store.ErrNotFound)
	}
	return fmt.Errorf("pgstore: %s: %w", op, err)
}

// notFound and exists are the errors of a statement that changed nothing because a
// record was missing or already there.
func notFound(op string) error { return fmt.Errorf("pgstore: %s: %w", op, store.ErrNotFound) }
func exists(op string) error   { return fmt.Errorf("pgstore: %s: %w", op, store.ErrExists) }
