package account_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store/memstore"
)

// Follow the change feed of the whole store: every audit event in commit order, then
// each new one as it commits. The consumer keeps the Seq of the last event it handled
// as its cursor, and follows again from it after a restart.
func ExampleService_Follow() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	svc := account.New(memstore.New(), account.Options{})
	reg := must(account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "ann@acme.test", Name: "Ann"}))
	ann := rbac.User(reg.User.ID)

	// A change committed while the consumer waits.
	go func() {
		time.Sleep(10 * time.Millisecond)
		must(account.Do(ctx, svc, ann, account.CreateResource{Parent: reg.Account.Ref, Kind: rbac.KindProject, Name: "Web"}))
	}()

	var cursor uint64 // 0: from the start; else the last Seq handled, kept by the host
	for e, err := range svc.Follow(ctx, cursor) {
		check(err)
		fmt.Println(e.Seq, e.Action, e.Tenant.Kind)
		cursor = e.Seq
		if e.Action == "resource.create" {
			break
		}
	}
	fmt.Println("cursor:", cursor)
	// Output:
	// 1 profile.register account
	// 2 resource.create account
	// cursor: 2
}
