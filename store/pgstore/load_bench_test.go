package pgstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
	"github.com/tenantry/tenantry/store/pgstore"
)

// BenchmarkLoad measures Store.Load into a memstore's Writer (what a replica does)
// over the fixture and n more grants of users, teams and tokens spread over its
// scopes, and reports the grants loaded per second. An op is one Load of the whole
// store, into a fresh memstore.
func BenchmarkLoad(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprint("grants=", n), func(b *testing.B) {
			schema := newSchemaName()
			s := openStore(b, pgstore.Options{Schema: schema})
			fixture(b, s)
			q := strings.NewReplacer("$schema.", pgx.Identifier{schema}.Sanitize()+".")
			_, err := s.Pool().Exec(b.Context(), q.Replace(`INSERT INTO $schema.grants
				(holder_kind, holder_id, scope_kind, scope_id, level, view_content, tenant_kind, tenant_id)
			SELECT 1 + i % 3, 'h' || i, sc.kind, sc.id, 10, i % 2 = 0, sc.tenant_kind, sc.tenant_id
			FROM generate_series(1, $1) i
			JOIN (SELECT kind, id, tenant_kind, tenant_id, row_number() OVER (ORDER BY kind, id) - 1 AS k,
				count(*) OVER () AS n FROM $schema.scopes) sc ON sc.k = i % sc.n`), n)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.Pool().Exec(b.Context(), q.Replace(`VACUUM ANALYZE $schema.grants`)); err != nil {
				b.Fatal(err)
			}
			var start time.Time
			var took time.Duration
			for b.Loop() {
				dst := memstore.New()
				start = time.Now()
				err := dst.Update(b.Context(), func(ctx context.Context, w store.Writer) error {
					_, err := s.Load(ctx, w)
					return err
				})
				took += time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/took.Seconds(), "grants/s")
		})
	}
}
