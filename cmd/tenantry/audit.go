package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

var auditCmd = &command{
	name: "audit", args: "TENANT", nargs: 1,
	about: `Prints the audit log of an account or organization, one event per line (a table, or
with --json one JSON object per line), oldest first, from the start or after the
cursor --after. An event's cursor is its sequence number (SEQ, "seq"); the cursor to
resume from is printed last, on standard error, as "cursor: N". The log of a deleted
account stays readable.

With -f the command keeps following the log, reading it again every --interval, until
it is interrupted (SIGINT, SIGTERM); it then prints the cursor and exits with 0.

Exit status 0, 2 for a malformed cursor, 3 when the tenant does not exist and has no log.
`,
	flags: func(fs *flag.FlagSet) func(*env, []string) error {
		after := fs.String("after", "", "print the events after this `CURSOR` (a sequence number; empty: from the start)")
		follow := fs.Bool("f", false, "keep following the log until interrupted")
		interval := fs.Duration("interval", time.Second, "with -f, how often to read the log again")
		return func(e *env, args []string) error {
			var cursor uint64
			if *after != "" {
				c, err := strconv.ParseUint(*after, 10, 64)
				if err != nil {
					return usagef("--after %q: a cursor is a sequence number, as audit prints it", *after)
				}
				cursor = c
			}
			if *interval <= 0 {
				return usagef("--interval must be positive")
			}
			return runAudit(e, args[0], cursor, *follow, *interval)
		}
	},
}

// eventJSON is an audit event in JSON output.
type eventJSON struct {
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	Tenant string    `json:"tenant"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Before string    `json:"before"`
	After  string    `json:"after"`
}

// auditPage is how many events one read of the log asks for.
const auditPage = 500

func runAudit(e *env, arg string, cursor uint64, follow bool, interval time.Duration) error {
	tenant, err := resolveTenant(e.ctx, e.st, arg)
	if err != nil {
		return err
	}
	err = e.st.View(e.ctx, func(ctx context.Context, r store.Reader) error {
		_, err := r.Account(ctx, tenant)
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		evs, err := r.Events(ctx, tenant, 0, 1)
		if err == nil && len(evs) == 0 {
			err = notFound(tenant)
		}
		return err
	})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	header := !e.opt.json
	var tick <-chan time.Time
	if follow {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		cursor, err = auditPass(e, enc, tenant, cursor, &header)
		if err != nil && !(follow && e.ctx.Err() != nil) {
			return err
		}
		if !follow || e.ctx.Err() != nil {
			break
		}
		select {
		case <-e.ctx.Done():
		case <-tick:
		}
	}
	_, err = fmt.Fprintf(e.stderr, "cursor: %d\n", cursor)
	return err
}

// auditPass prints every event of tenant after cursor, each page read in a View of
// its own, and returns the cursor after the last one.
func auditPass(e *env, enc *json.Encoder, tenant rbac.Ref, cursor uint64, header *bool) (uint64, error) {
	for {
		var page []store.Event
		err := e.st.View(e.ctx, func(ctx context.Context, r store.Reader) error {
			var err error
			page, err = r.Events(ctx, tenant, cursor, auditPage)
			return err
		})
		if err != nil {
			return cursor, err
		}
		if e.opt.json {
			for _, ev := range page {
				if err := enc.Encode(eventJSON{
					Seq: ev.Seq, Time: ev.Time, Tenant: refText(ev.Tenant), Actor: holderText(ev.Actor),
					Action: ev.Action, Target: ev.Target, Before: ev.Before, After: ev.After,
				}); err != nil {
					return cursor, err
				}
				cursor = ev.Seq
			}
		} else if len(page) > 0 {
			tw := table(e.stdout)
			if *header {
				fmt.Fprintln(tw, "SEQ\tTIME\tACTOR\tACTION\tTARGET\tBEFORE\tAFTER")
				*header = false
			}
			for _, ev := range page {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", ev.Seq, ev.Time.UTC().Format(time.RFC3339), dash(holderText(ev.Actor)), ev.Action, dash(ev.Target), dash(ev.Before), dash(ev.After))
				cursor = ev.Seq
			}
			if err := tw.Flush(); err != nil {
				return cursor, err
			}
		}
		if len(page) < auditPage {
			return cursor, nil
		}
	}
}

// dash returns s, or "-" for an empty s, so that a table's columns stay apart.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// holderText is h as "kind:id", or "" for the zero holder (who registers acts as
// nobody).
func holderText(h rbac.Holder) string {
	if h.IsZero() {
		return ""
	}
	return h.String()
}

// refText is r as "kind:id", or "" for the zero ref (a profile's own events).
func refText(r rbac.Ref) string {
	if r.IsZero() {
		return ""
	}
	return r.String()
}
