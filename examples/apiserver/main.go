// Command apiserver serves the platform's account-access API (see its README) over
// Tenantry, on the in-memory store or on PostgreSQL.
//
//	go run ./examples/apiserver -demo -demo-out demo.json
//	go run ./examples/apiserver -demo -demo-user olivia@demo.test   # then open http://127.0.0.1:8080/app/
//	curl -H "Authorization: Bearer $(jq -r '.tokens[0].secret' demo.json)" localhost:8080/api/accounts
//
// Flags:
//
//	-addr ADDR        listen address (default 127.0.0.1:8080)
//	-postgres DSN     use PostgreSQL (migrated at start-up) instead of the in-memory store
//	-demo             create a demo organization with sub-accounts, resources, users and tokens
//	-demo-out FILE    write the demo's IDs, token secrets and sessions to FILE as JSON
//	-demo-user EMAIL  with -demo: GET /demo/sign-in signs the browser in as this demo user,
//	                  and the pages at /app/ send a browser without a session there
//	-rate-limit N     requests per token (or signed-in user) per -rate-window; 0: no limit (default 150)
//	-rate-window D    the window of the rate limit (default 10s)
//
// IDs are random integers below 2^51 (api.NewID), served as JSON numbers.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/examples/apiserver/api"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
	"github.com/tenantry/tenantry/store/pgstore"
	"github.com/tenantry/tenantry/web"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	dsn := flag.String("postgres", "", "PostgreSQL DSN (default: the in-memory store)")
	demo := flag.Bool("demo", false, "create a demo organization with sub-accounts, users and tokens")
	demoOut := flag.String("demo-out", "", "write the demo fixture (IDs, token secrets) to this file as JSON")
	demoUser := flag.String("demo-user", "", "with -demo: sign the browser in as this demo user at /demo/sign-in (the pages at /app/ go there)")
	rate := flag.Int("rate-limit", web.DefaultRateLimit, "requests per token or user per -rate-window; 0: no limit")
	window := flag.Duration("rate-window", web.DefaultRateWindow, "the window of the rate limit")
	flag.Parse()

	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, logger, config{addr: *addr, dsn: *dsn, demo: *demo, demoOut: *demoOut, demoUser: *demoUser, rate: web.RateLimit{Requests: *rate, Window: *window}, noRate: *rate <= 0}); err != nil {
		logger.Error("apiserver", "err", err)
		os.Exit(1)
	}
}

// config is what the flags say.
type config struct {
	addr, dsn string
	demo      bool
	demoOut   string
	demoUser  string
	rate      web.RateLimit
	noRate    bool
}

// serve runs the server until ctx is done, then shuts it down gracefully.
func serve(ctx context.Context, logger *slog.Logger, c config) error {
	addr, dsn, demo, demoOut := c.addr, c.dsn, c.demo, c.demoOut
	var st store.Store
	if dsn == "" {
		st = memstore.New()
		logger.Info("store", "kind", "memory")
	} else {
		pg, err := pgstore.Open(ctx, dsn, pgstore.Options{Logger: logger})
		if err != nil {
			return fmt.Errorf("open postgres: %w", err)
		}
		defer pg.Close()
		if err := pg.Migrate(ctx); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		st = pg
		logger.Info("store", "kind", "postgres")
	}
	svc := account.New(st, account.Options{NewID: api.NewID})
	sessions := api.NewSessions()

	if demo {
		fx, err := buildDemo(ctx, svc, sessions)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		logger.Info("demo created", "organization", fx.Organization.ID, "tokens", len(fx.Tokens))
		if demoOut != "" {
			b, err := json.MarshalIndent(fx, "", "  ")
			if err != nil {
				return err
			}
			if err := os.WriteFile(demoOut, append(b, '\n'), 0o600); err != nil {
				return fmt.Errorf("demo-out: %w", err)
			}
			logger.Info("demo fixture written", "file", demoOut)
		}
	} else if demoOut != "" || c.demoUser != "" {
		return errors.New("-demo-out and -demo-user need -demo")
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	h := newHandler(svc, handlerConfig{logger: logger, sessions: sessions, web: web.Options{RateLimit: c.rate, NoRateLimit: c.noRate}, demoUser: c.demoUser})
	if c.demoUser != "" {
		logger.Info("pages", "url", "http://"+ln.Addr().String()+pagesPrefix+"/", "signed in as", c.demoUser)
	} else {
		logger.Info("pages", "url", "http://"+ln.Addr().String()+pagesPrefix+"/", "sign in with", "the cookie session (-demo-out's sessions)")
	}
	return run(ctx, logger, ln, h)
}

// run serves h on ln until ctx is done, then stops accepting requests and waits up to
// ten seconds for those in flight.
func run(ctx context.Context, logger *slog.Logger, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() {
		logger.Info("listening", "addr", ln.Addr().String())
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
