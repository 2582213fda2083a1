package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store/memstore"
	"github.com/tenantry/tenantry/webhook"
)

// A host delivers its store's changes to a receiver, which checks each request's
// signature and handles each idempotency key once.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	secret := []byte("shared with the receiver")

	// The receiver.
	handled := map[string]bool{}
	done := make(chan struct{})
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(secret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), 0); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		key := r.Header.Get(webhook.IdempotencyHeader)
		if !handled[key] { // a retry of a delivery already handled is acknowledged again
			handled[key] = true
			var p webhook.Payload
			_ = json.Unmarshal(body, &p)
			fmt.Println(p.Seq, p.Action, p.Tenant.Kind)
			if p.Action == "resource.create" {
				close(done)
			}
		}
	}))
	defer rcv.Close()

	// The host.
	svc := account.New(memstore.New(), account.Options{})
	d, err := webhook.New(svc, []webhook.Subscription{{
		ID: "example", URL: rcv.URL, Secret: secret,
		Actions: []string{"profile.", "resource."},
	}}, webhook.Options{Cursors: &webhook.MemoryCursors{}})
	if err != nil {
		panic(err)
	}
	stopped := make(chan error)
	go func() { stopped <- d.Run(ctx) }()

	reg, err := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "ann@acme.test", Name: "Ann"})
	if err != nil {
		panic(err)
	}
	ann := rbac.User(reg.User.ID)
	if _, err := account.Do(ctx, svc, ann, account.SetPlan{Account: reg.Account.Ref, Plan: "team"}); err != nil {
		panic(err)
	}
	if _, err := account.Do(ctx, svc, ann, account.CreateResource{Parent: reg.Account.Ref, Kind: rbac.KindProject, Name: "Web"}); err != nil {
		panic(err)
	}
	<-done
	cancel()
	fmt.Println("stopped:", <-stopped)
	// Output:
	// 1 profile.register account
	// 3 resource.create account
	// stopped: <nil>
}
