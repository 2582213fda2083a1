package memstore_test

import (
	"context"
	"fmt"
	"log"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store/memstore"
)

// The in-memory store needs no configuration: it is the store of a single-process
// service, of tests and of examples.
func Example() {
	ctx := context.Background()
	svc := account.New(memstore.New(), account.Options{})

	reg, err := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "ann@acme.test", Name: "Ann"})
	if err != nil {
		log.Fatal(err)
	}
	ann := rbac.User(reg.User.ID)
	web, err := account.Do(ctx, svc, ann, account.CreateResource{Parent: reg.Account.Ref, Kind: rbac.KindProject, Name: "Web"})
	if err != nil {
		log.Fatal(err)
	}
	// The check a service makes on every request: on memstore, a few map look-ups
	// that allocate nothing.
	fmt.Println(svc.Authorize(ctx, ann, rbac.InboxCreate, web.Ref))
	// Output: <nil>
}
