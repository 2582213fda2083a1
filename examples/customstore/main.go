// Command customstore runs Tenantry's account operations on logstore, a store written
// outside the library (see logstore and README.md), and shows each transaction it
// sees in the log.
//
//	go run ./examples/customstore
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/examples/customstore/logstore"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store/memstore"
)

func main() {
	if err := run(context.Background(), os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "customstore:", err)
		os.Exit(1)
	}
}

// run registers a user, creates a project and checks an action, on a logstore that
// logs to logw; it prints a summary to w.
func run(ctx context.Context, w, logw io.Writer) error {
	st := logstore.New(memstore.New(), logstore.Options{
		Logger: slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Level:  slog.LevelDebug,
	})
	svc := account.New(st, account.Options{})

	reg, err := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "ann@acme.test", Name: "Acme"})
	if err != nil {
		return err
	}
	owner := rbac.User(reg.User.ID)
	web, err := account.Do(ctx, svc, owner, account.CreateResource{Parent: reg.Account.Ref, Kind: rbac.KindProject, Name: "Web"})
	if err != nil {
		return err
	}
	d, err := svc.Check(ctx, owner, rbac.InboxCreate, web.Ref)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "check:", d.Reason())
	// A refused operation rolls back, and the store logs it as an error.
	if _, err := account.Do(ctx, svc, owner, account.TransferOwnership{Account: reg.Account.Ref, To: rbac.User("nobody")}); err != nil {
		fmt.Fprintln(w, "refused:", err)
	}
	s := st.Stats()
	fmt.Fprintf(w, "transactions: %d views, %d updates (%d committed, %d rolled back)\n", s.Views, s.Updates, s.Commits, s.Rollbacks)
	return nil
}
