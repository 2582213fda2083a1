package sqlitestore_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/sqlitestore"
)

// helperCommand returns a command that runs this test binary as the helper process h
// on the database at path, with the number arg (see TestMain).
func helperCommand(h, path string, arg int) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.count=1")
	cmd.Env = append(os.Environ(), envHelper+"="+h, envDB+"="+path, envArg+"="+strconv.Itoa(arg))
	cmd.Stderr = os.Stderr
	return cmd
}

// runHelper runs helper process h on the database at path.
func runHelper(h, path string, arg int) error {
	ctx := context.Background()
	s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	switch h {
	case "crash":
		return crashWriter(ctx, s, arg)
	case "revoke":
		return s.Update(ctx, func(ctx context.Context, w store.Writer) error {
			return w.DeleteGrant(ctx, rbac.User("u-bob"), rbac.Account("a1"))
		})
	case "policy":
		return s.Update(ctx, func(ctx context.Context, w store.Writer) error {
			return w.PutSecurityPolicy(ctx, refusingPolicy)
		})
	}
	return fmt.Errorf("unknown helper %q", h)
}

// refusingPolicy is the policy the cache tests put on account a1: an allowlist that
// leaves out cacheClient, the address of their checks.
var refusingPolicy = store.SecurityPolicy{
	Tenant: rbac.Account("a1"), IPAllowlist: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")},
	UpdatedBy: "u-ann", Updated: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
}

// The crash test's records: in each transaction, a user u-N with the event
// crash.user targeting it, or a grant to user g-N on account a1 with the event
// crash.grant targeting g-N; N counts up from a number each writer is given.
var crashAccount = rbac.Account("a1")

func crashID(i int) string {
	if i%2 == 0 {
		return "u-" + strconv.Itoa(i)
	}
	return "g-" + strconv.Itoa(i)
}

// crashWriter commits write transactions, numbered from start, until it is killed,
// printing the ID of each after its commit.
func crashWriter(ctx context.Context, s *sqlitestore.Store, start int) error {
	err := s.Update(ctx, func(ctx context.Context, w store.Writer) error {
		err := w.InsertAccount(ctx, store.Account{Ref: crashAccount, Name: "A", Owner: "owner", Plan: "p"})
		if errors.Is(err, store.ErrExists) {
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	for i := start; ; i++ {
		id := crashID(i)
		err := s.Update(ctx, func(ctx context.Context, w store.Writer) error {
			if i%2 == 0 {
				if err := w.InsertUser(ctx, store.User{ID: id, Email: id + "@crash.test", Name: strings.Repeat("x", 500)}); err != nil {
					return err
				}
				_, err := w.AppendEvent(ctx, store.Event{Actor: rbac.User(id), Action: "crash.user", Target: id})
				return err
			}
			if err := w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: rbac.User(id), Scope: crashAccount, Level: rbac.Viewer}}); err != nil {
				return err
			}
			_, err := w.AppendEvent(ctx, store.Event{Tenant: crashAccount, Actor: rbac.User("owner"), Action: "crash.grant", Target: id})
			return err
		})
		if err != nil {
			return err
		}
		if _, err := fmt.Println(id); err != nil {
			return err
		}
	}
}
