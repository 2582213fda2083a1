package main

import (
	"flag"
	"strings"
)

var reviewCmd = &command{
	name: "review", args: "TENANT", nargs: 1,
	about: `Writes the access review of an account or organization, as the library's
account.Service.HostReview makes it: for every member, team, API token and pending
invitation — of the tenant, of its organization, and for an organization of its
sub-accounts — its effective level on every scope of the tenant's tree, with the grant
that level comes from (its own, a team's, the owner's; given on the scope or inherited
from above) and, for a token, the creator whose access caps it; the last audit event
naming the holder, its last activity, two-factor status (users) and expiry
(invitations, tokens). Every holder has a row for every scope, level "none" included.
Rows are written as they are read, page by page, in memory that does not grow with the
number of members.

--format csv (the default): a header row, then one row per holder and scope, with the
columns
  holder, name, member_of, scope, scope_name, level, source,
  via_holder, via_scope, via_level, inherited, capped_by,
  last_change_seq, last_change_at, last_change_action, last_change_by,
  last_active, two_factor, expires, expired
(member_of lists tenants separated by spaces; a cell is empty where it does not apply;
times are RFC 3339 in UTC). --format json (or --json): one JSON document,
  {"version":1,"tenant":…,"tenant_name":…,"tenants":[…],"generated":…,"columns":[…],
   "rows":[ one object per line, the same fields with "via" and "last_change" as
   objects, null where a CSV cell is empty ]}

Exit status 0, 3 when the tenant does not exist.
`,
	flags: func(fs *flag.FlagSet) func(*env, []string) error {
		format := fs.String("format", "csv", "the output `FORMAT`: csv or json (--json is --format json)")
		return func(e *env, args []string) error { return runReview(e, args, *format) }
	},
}

func runReview(e *env, args []string, format string) error {
	format = strings.ToLower(format)
	if e.opt.json {
		format = "json"
	}
	if format != "csv" && format != "json" {
		return usagef("--format %q: want csv or json", format)
	}
	tenant, err := resolveTenant(e.ctx, e.st, args[0])
	if err != nil {
		return err
	}
	rv, err := e.svc.HostReview(e.ctx, tenant)
	if err != nil {
		return scopeErr(tenant, err)
	}
	if format == "json" {
		return rv.WriteJSON(e.ctx, e.stdout)
	}
	return rv.WriteCSV(e.ctx, e.stdout)
}
