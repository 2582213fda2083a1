package pgstore_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/pgstore"
	"github.com/tenantry/tenantry/store/replica"
)

// privateServer is a PostgreSQL server of one test's own, started by the
// repository's .ci/postgres.sh, which the test may restart.
type privateServer struct {
	dsn, dir string
	script   string
}

// startPrivateServer starts a throwaway server for t alone (stopped at cleanup). It
// needs what the other tests of this package need (TENANTRY_PG_DSN says PostgreSQL is
// installed here).
func startPrivateServer(t *testing.T) *privateServer {
	t.Helper()
	testDSN(t)
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", ".ci", "postgres.sh")
	cmd := exec.Command("bash", script, "start")
	cmd.Env = append(cmd.Environ(), "TENANTRY_PG_PORT=55329")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("starting a private server: %v\n%s", err, exitStderr(err))
	}
	srv := &privateServer{script: script}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimPrefix(sc.Text(), "export ")
		k, v, _ := strings.Cut(line, "=")
		v = strings.Trim(v, "'")
		switch k {
		case "TENANTRY_PG_DSN":
			srv.dsn = v
		case "TENANTRY_PG_DIR":
			srv.dir = v
		}
	}
	if srv.dsn == "" || srv.dir == "" {
		t.Fatalf("postgres.sh start printed %q", out)
	}
	t.Cleanup(func() { _ = exec.Command("bash", script, "stop", srv.dir).Run() })
	return srv
}

func exitStderr(err error) []byte {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.Stderr
	}
	return nil
}

// restart restarts the server, cutting every connection.
func (s *privateServer) restart(t *testing.T) {
	if out, err := exec.Command("bash", s.script, "restart", s.dir).CombinedOutput(); err != nil {
		t.Errorf("restarting the server: %v\n%s", err, out)
	}
}

// killBackends terminates every other connection to the server's database.
func (s *privateServer) killBackends(ctx context.Context) (int, error) {
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var n int
	err = conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&n)
	return n, err
}

// TestReplicaUnderFaults: a replica answers checks while its database's connections
// are killed, three times, and the server is restarted once, under a running check
// load and a writer. Every check that carries the writer's last revision is compared
// with the access that write gave (no other write runs meanwhile); answers that are
// errors (the database down) are counted, not compared. Afterwards the replica is
// fresh again and answers from its copy as the database does.
func TestReplicaUnderFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts a server")
	}
	srv := startPrivateServer(t)
	ctx := t.Context()
	st, err := pgstore.Open(ctx, srv.dsn, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := replica.Open(ctx, st, replica.Options{MaxStaleness: 300 * time.Millisecond, Heartbeat: 50 * time.Millisecond,
		RevisionWait: 2 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	host, inst := account.New(st, account.Options{}), account.New(r, account.Options{})

	do := func(actor rbac.Holder, op account.Op[struct{}]) (uint64, error) {
		_, rev, err := account.DoRevision(ctx, host, actor, op)
		return rev, err
	}
	reg, err := account.Do(ctx, host, rbac.Holder{}, profile.Register{Email: "olga@acme.test", Name: "Olga"})
	if err != nil {
		t.Fatal(err)
	}
	owner, acct := rbac.User(reg.User.ID), reg.Account.Ref
	if _, err := do(owner, account.SetPlan{Account: acct, Plan: "team"}); err != nil {
		t.Fatal(err)
	}
	proj, err := account.Do(ctx, host, owner, account.CreateResource{Parent: acct, Kind: rbac.KindProject, Name: "Web"})
	if err != nil {
		t.Fatal(err)
	}
	ureg, err := account.Do(ctx, host, rbac.Holder{}, profile.Register{Email: "ugo@acme.test", Name: "Ugo"})
	if err != nil {
		t.Fatal(err)
	}
	u := rbac.User(ureg.User.ID)
	inv, err := account.Do(ctx, host, owner, account.Invite{Tenant: acct, Email: "ugo@acme.test", Grants: []account.GrantSpec{{Scope: proj.Ref, Level: rbac.Viewer}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := account.Do(ctx, host, u, account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret}); err != nil {
		t.Fatal(err)
	}

	// The writer holds mu while it writes; checkers hold it for reading while they
	// check, so the last write's level is the access every check must see.
	var mu sync.RWMutex
	var rev uint64
	level := rbac.Viewer
	var compared, failed, wrong, writes int
	var countMu sync.Mutex
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.RLock()
				want := level == rbac.Admin
				cctx, cancel := context.WithTimeout(account.WithRevision(ctx, rev), 3*time.Second)
				d, err := inst.Check(cctx, u, rbac.ProjectRename, proj.Ref)
				cancel()
				mu.RUnlock()
				countMu.Lock()
				switch {
				case err != nil:
					failed++
				case d.Allowed != want:
					wrong++
					t.Errorf("a check at revision %d answered %v; the database says %v", rev, d.Allowed, want)
				default:
					compared++
				}
				countMu.Unlock()
				time.Sleep(time.Millisecond)
			}
		})
	}
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			mu.Lock()
			next := rbac.Admin
			if level == rbac.Admin {
				next = rbac.Viewer
			}
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, rv, err := account.DoRevision(wctx, host, owner, account.SetPermissions{Tenant: acct, Holder: u,
				Changes: []account.PermissionChange{{Scope: proj.Ref, Level: next}}})
			cancel()
			if err == nil {
				level, rev = next, rv
				writes++
			}
			mu.Unlock()
		}
	})

	for i := range 3 {
		time.Sleep(700 * time.Millisecond)
		n, err := srv.killBackends(ctx)
		t.Logf("fault %d: killed %d connections (%v)", i+1, n, err)
	}
	time.Sleep(700 * time.Millisecond)
	srv.restart(t)
	t.Log("fault 4: restarted the server")
	time.Sleep(1500 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("%d writes; %d checks compared, %d wrong, %d errors; replica %+v", writes, compared, wrong, failed, r.Status())
	if compared < 100 || writes < 20 {
		t.Errorf("too little load to judge: %d checks compared, %d writes", compared, writes)
	}

	deadline := time.Now().Add(20 * time.Second)
	for st := r.Status(); st.Stale || st.Err != nil; st = r.Status() {
		if time.Now().After(deadline) {
			t.Fatalf("the replica did not recover: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := r.WaitFor(ctx, rev); err != nil {
		t.Fatal(err)
	}
	fallbacks := r.Status().Fallbacks
	d, err := inst.Check(ctx, u, rbac.ProjectRename, proj.Ref)
	if err != nil || d.Allowed != (level == rbac.Admin) {
		t.Errorf("after the faults the replica answers %v, %v; the database says %v", d.Allowed, err, level == rbac.Admin)
	}
	if r.Status().Fallbacks != fallbacks {
		t.Error("after recovering, the check went to the database")
	}
}

// replicaWorld fills a new schema with about n grants with a few statements (five
// grants per user, twenty users per account, four projects of four inboxes each), and
// returns the store, a user, an inbox it reads and an inbox of another project.
func replicaWorld(b *testing.B, n int) (*pgstore.Store, rbac.Holder, rbac.Ref, rbac.Ref) {
	b.Helper()
	name := newSchemaName()
	s := openStore(b, pgstore.Options{Schema: name}, "pool_max_conns=8")
	pool := adminPool(b)
	ctx := b.Context()
	schema := pgx.Identifier{name}.Sanitize()
	users := max(n/5, 1)
	accounts := (users + 19) / 20
	acct, proj, inbox, user := int16(rbac.KindAccount), int16(rbac.KindProject), int16(rbac.KindInbox), int16(rbac.HolderUser)
	stmts := []string{
		`INSERT INTO $s.users (id, email, email_fold, name, time_zone, two_factor, created)
			SELECT 'u'||u, 'u'||u||'@bench.test', 'u'||u||'@bench.test', '', '', false, now() FROM generate_series(0, $users-1) u`,
		`INSERT INTO $s.scopes (kind, id, tenant_kind, tenant_id, name, owner_id, plan, created, path_kinds, path_ids)
			SELECT $acct, 'a'||a, $acct, 'a'||a, 'a'||a, 'u'||(a*20), 'team', now(), ARRAY[$acct::smallint], ARRAY['a'||a]
			FROM generate_series(0, $accounts-1) a`,
		`INSERT INTO $s.scopes (kind, id, parent_kind, parent_id, tenant_kind, tenant_id, name, created, path_kinds, path_ids)
			SELECT $proj, 'p'||a||'.'||p, $acct, 'a'||a, $acct, 'a'||a, 'p', now(), ARRAY[$acct::smallint, $proj::smallint], ARRAY['a'||a, 'p'||a||'.'||p]
			FROM generate_series(0, $accounts-1) a, generate_series(0, 3) p`,
		`INSERT INTO $s.scopes (kind, id, parent_kind, parent_id, tenant_kind, tenant_id, name, created, path_kinds, path_ids)
			SELECT $inbox, 'i'||a||'.'||p||'.'||i, $proj, 'p'||a||'.'||p, $acct, 'a'||a, 'i', now(),
				ARRAY[$acct::smallint, $proj::smallint, $inbox::smallint], ARRAY['a'||a, 'p'||a||'.'||p, 'i'||a||'.'||p||'.'||i]
			FROM generate_series(0, $accounts-1) a, generate_series(0, 3) p, generate_series(0, 3) i`,
		`INSERT INTO $s.members (tenant_kind, tenant_id, user_id, created)
			SELECT $acct, 'a'||(u/20), 'u'||u, now() FROM generate_series(0, $users-1) u`,
		`INSERT INTO $s.grants (holder_kind, holder_id, scope_kind, scope_id, level, view_content, tenant_kind, tenant_id)
			SELECT $user, 'u'||u, $acct, 'a'||(u/20), 10, false, $acct, 'a'||(u/20) FROM generate_series(0, $users-1) u
			UNION ALL
			SELECT $user, 'u'||u, $proj, 'p'||(u/20)||'.'||(u%4), 100, false, $acct, 'a'||(u/20) FROM generate_series(0, $users-1) u
			UNION ALL
			SELECT $user, 'u'||u, $inbox, 'i'||(u/20)||'.'||(u%4)||'.'||i, 10, false, $acct, 'a'||(u/20)
			FROM generate_series(0, $users-1) u, generate_series(0, 2) i`,
		`ANALYZE`,
	}
	r := strings.NewReplacer("$s", schema, "$users", fmt.Sprint(users), "$accounts", fmt.Sprint(accounts),
		"$acct", fmt.Sprint(acct), "$proj", fmt.Sprint(proj), "$inbox", fmt.Sprint(inbox), "$user", fmt.Sprint(user))
	for _, q := range stmts {
		if _, err := pool.Exec(ctx, r.Replace(q)); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	a := min(users/20/2, (users-1)/20)
	uid := a*20 + 1
	p := uid % 4
	return s, rbac.User(fmt.Sprint("u", uid)), rbac.Inbox(fmt.Sprintf("i%d.%d.0", a, p)), rbac.Inbox(fmt.Sprintf("i%d.%d.2", a, (p+1)%4))
}

// BenchmarkReplicaCheck measures a check answered by a replica of a PostgreSQL store
// beside the same check on the store itself, allowed and denied, at 1k, 100k and 1M
// grants.
func BenchmarkReplicaCheck(b *testing.B) {
	now := time.Now()
	for _, sz := range []struct {
		name string
		n    int
	}{{"1k", 1_000}, {"100k", 100_000}, {"1M", 1_000_000}} {
		s, h, allow, deny := replicaWorld(b, sz.n)
		r, err := replica.Open(b.Context(), s, replica.Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range []struct {
			name   string
			action rbac.Action
			scope  rbac.Ref
			want   bool
		}{{"allow", rbac.InboxRead, allow, true}, {"deny", rbac.InboxRename, deny, false}} {
			for _, side := range []struct {
				name string
				c    store.Checker
			}{{"replica", r}, {"pgstore", s}} {
				b.Run("grants="+sz.name+"/"+c.name+"/"+side.name, func(b *testing.B) {
					ctx := context.Background()
					var d rbac.Decision
					var err error
					b.ReportAllocs()
					for b.Loop() {
						d, err = side.c.Check(ctx, h, c.action, c.scope, now)
					}
					if err != nil || d.Allowed != c.want {
						b.Fatalf("Check = %+v, %v; want allowed=%v", d, err, c.want)
					}
				})
			}
		}
		if f := r.Status().Fallbacks; f != 0 {
			b.Fatalf("%d checks went to the database", f)
		}
		r.Close()
	}
}

// BenchmarkReplicaLoad measures loading a replica of a PostgreSQL store of 1M grants
// (200k users in 10k accounts): the time of Open, and the memory the copy holds per
// grant (heap in use after a collection, against before).
func BenchmarkReplicaLoad(b *testing.B) {
	const n = 1_000_000
	s, _, _, _ := replicaWorld(b, n)
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r, err := replica.Open(b.Context(), s, replica.Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/grant")
		r.Close()
		runtime.KeepAlive(r)
	}
}

// BenchmarkReplicaVisibility measures how long a change committed on one instance
// takes to reach the checks of another instance's replica (its copy has applied the
// change's revision), while writers on the first instance commit 1,000 grant changes a
// second: the median and the 99th percentile over the run.
func BenchmarkReplicaVisibility(b *testing.B) {
	name := newSchemaName()
	a := openStore(b, pgstore.Options{Schema: name}, "pool_max_conns=12")
	bs := openStore(b, pgstore.Options{Schema: name}, "pool_max_conns=4")
	r, err := replica.Open(b.Context(), bs, replica.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	ctx := b.Context()
	svc := account.New(a, account.Options{})
	reg, err := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "olga@acme.test", Name: "Olga"})
	if err != nil {
		b.Fatal(err)
	}
	owner, acct := rbac.User(reg.User.ID), reg.Account.Ref
	if _, err := account.Do(ctx, svc, owner, account.SetPlan{Account: acct, Plan: "enterprise"}); err != nil {
		b.Fatal(err)
	}
	proj, err := account.Do(ctx, svc, owner, account.CreateResource{Parent: acct, Kind: rbac.KindProject, Name: "Web"})
	if err != nil {
		b.Fatal(err)
	}
	// Eight members, one per writer, so that writers do not conflict.
	const writers = 8
	var members []rbac.Holder
	for i := range writers {
		email := fmt.Sprintf("m%d@acme.test", i)
		m, err := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: email, Name: "M"})
		if err != nil {
			b.Fatal(err)
		}
		inv, err := account.Do(ctx, svc, owner, account.Invite{Tenant: acct, Email: email, Grants: []account.GrantSpec{{Scope: proj.Ref, Level: rbac.Viewer}}})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := account.Do(ctx, svc, rbac.User(m.User.ID), account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret}); err != nil {
			b.Fatal(err)
		}
		members = append(members, rbac.User(m.User.ID))
	}
	for b.Loop() {
		const rate, seconds = 1000, 3
		var mu sync.Mutex
		var lat []time.Duration
		var wg, waits sync.WaitGroup
		tick := time.NewTicker(time.Second / rate)
		jobs := make(chan struct{}, rate)
		for i := range writers {
			wg.Go(func() {
				level := rbac.Admin
				for range jobs {
					_, rev, err := account.DoRevision(ctx, svc, owner, account.SetPermissions{Tenant: acct, Holder: members[i],
						Changes: []account.PermissionChange{{Scope: proj.Ref, Level: level}}})
					if err != nil {
						b.Error(err)
						return
					}
					level = map[rbac.Level]rbac.Level{rbac.Admin: rbac.Viewer, rbac.Viewer: rbac.Admin}[level]
					committed := time.Now()
					waits.Go(func() {
						if err := r.WaitFor(ctx, rev); err == nil {
							mu.Lock()
							lat = append(lat, time.Since(committed))
							mu.Unlock()
						}
					})
				}
			})
		}
		sent := 0
		for range tick.C {
			jobs <- struct{}{}
			if sent++; sent == rate*seconds {
				break
			}
		}
		tick.Stop()
		close(jobs)
		wg.Wait()
		waits.Wait()
		slices.Sort(lat)
		if len(lat) == 0 {
			b.Fatal("no write reached the replica")
		}
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(len(lat))/seconds, "writes/s")
	}
}
