package benchmarks

import (
	"context"
	"sync"
	"testing"

	"github.com/casbin/casbin/v2"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/rbac"
)

// engines caches the loaded engines of each size across the benchmarks of a run.
var engines sync.Map // n → func() (*loaded, error)

type loaded struct {
	tenantry *account.Service
	grants   int
	casbin   []*casbin.Enforcer
	lines    []int
}

func load(tb testing.TB, n int) *loaded {
	tb.Helper()
	f, _ := engines.LoadOrStore(n, sync.OnceValues(func() (*loaded, error) {
		s := scenario{n: n}
		l := &loaded{}
		var err error
		if l.tenantry, l.grants, err = s.tenantry(context.Background()); err != nil {
			return nil, err
		}
		for _, c := range casbinModels {
			e, lines, err := c.enforcer(s)
			if err != nil {
				return nil, err
			}
			l.casbin = append(l.casbin, e)
			l.lines = append(l.lines, lines)
		}
		return l, nil
	}))
	l, err := f.(func() (*loaded, error))()
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

// BenchmarkCheck times the allowed and the denied check of the scenario on Tenantry
// (account.Service.Check on memstore) and on each casbin model, at each size. The
// names are size=S/CASE/ENGINE, which cmd/ratio reads.
func BenchmarkCheck(b *testing.B) {
	ctx := context.Background()
	for _, size := range sizes {
		b.Run("size="+size.name, func(b *testing.B) {
			s := scenario{n: size.n}
			allow, deny := s.viewerRequests()
			for _, r := range []struct {
				name string
				req  request
			}{{"allow", allow}, {"deny", deny}} {
				want := s.want(r.req)
				b.Run(r.name, func(b *testing.B) {
					b.Run("tenantry", func(b *testing.B) {
						l := load(b, size.n)
						h := rbac.User(r.req.user)
						var d rbac.Decision
						var err error
						b.ReportAllocs()
						for b.Loop() {
							d, err = l.tenantry.Check(ctx, h, r.req.action, r.req.scope)
						}
						if err != nil || d.Allowed != want {
							b.Fatalf("%v: allowed=%v, %v; want %v", r.req, d.Allowed, err, want)
						}
						b.ReportMetric(float64(l.grants), "grants")
					})
					for i, c := range casbinModels {
						b.Run(c.name, func(b *testing.B) {
							l := load(b, size.n)
							e := l.casbin[i]
							var ok bool
							var err error
							b.ReportAllocs()
							for b.Loop() {
								ok, err = enforce(e, r.req)
							}
							if err != nil || ok != want {
								b.Fatalf("%v: allowed=%v, %v; want %v", r.req, ok, err, want)
							}
							b.ReportMetric(float64(l.lines[i]), "lines")
						})
					}
				})
			}
		})
	}
}
