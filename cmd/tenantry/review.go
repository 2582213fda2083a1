package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

var reviewCmd = &command{
	name: "review", args: "TENANT", nargs: 1,
	about: `Writes an access review of an account or organization: for every member, pending
invitation and API token — of the tenant, of its organization, and for an organization
of its sub-accounts — its effective level on every scope of the tenant's tree, with
the grant that level comes from (its own, a team's, the owner's; given on the scope or
inherited from above) and, for a token, whether its creator's access caps it or it no
longer acts (expired or reset). Every holder has a row for every scope, level "none"
included. Rows are written as they are computed, from one consistent read of the store.

CSV by default, with the columns
  holder, holder_name, member_of, scope, scope_name, level,
  via_holder, via_scope, via_level, inherited, note
(member_of lists tenants separated by spaces; the via_ columns are empty when no grant
reaches the scope). With --json, one JSON array of objects with the same fields, the
grant as "via": {"holder", "scope", "level"} or null.

Exit status 0, 3 when the tenant does not exist.
`,
	flags: func(fs *flag.FlagSet) func(*env, []string) error { return runReview },
}

// reviewRow is a row of the access review.
type reviewRow struct {
	Holder     string     `json:"holder"`
	HolderName string     `json:"holder_name"`
	MemberOf   []string   `json:"member_of"`
	Scope      string     `json:"scope"`
	ScopeName  string     `json:"scope_name"`
	Level      string     `json:"level"`
	Via        *grantJSON `json:"via"`
	Inherited  bool       `json:"inherited"`
	Note       string     `json:"note,omitempty"`
}

var reviewHeader = []string{"holder", "holder_name", "member_of", "scope", "scope_name", "level", "via_holder", "via_scope", "via_level", "inherited", "note"}

// reviewWriter writes rows as CSV or as a JSON array, as they come.
type reviewWriter struct {
	w     io.Writer
	csv   *csv.Writer // nil for JSON
	first bool
}

func newReviewWriter(w io.Writer, asJSON bool) (*reviewWriter, error) {
	rw := &reviewWriter{w: w, first: true}
	if asJSON {
		_, err := io.WriteString(w, "[")
		return rw, err
	}
	rw.csv = csv.NewWriter(w)
	return rw, rw.csv.Write(reviewHeader)
}

func (rw *reviewWriter) write(r reviewRow) error {
	if rw.csv == nil {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		sep := ",\n"
		if rw.first {
			sep, rw.first = "\n", false
		}
		_, err = io.WriteString(rw.w, sep+string(b))
		return err
	}
	rec := []string{r.Holder, r.HolderName, strings.Join(r.MemberOf, " "), r.Scope, r.ScopeName, r.Level, "", "", "", "", r.Note}
	if r.Via != nil {
		rec[6], rec[7], rec[8], rec[9] = r.Via.Holder, r.Via.Scope, r.Via.Level, strconv.FormatBool(r.Inherited)
	}
	return rw.csv.Write(rec)
}

// flush sends what is buffered on, so that rows leave as they are made.
func (rw *reviewWriter) flush() error {
	if rw.csv != nil {
		rw.csv.Flush()
		return rw.csv.Error()
	}
	return nil
}

func (rw *reviewWriter) close() error {
	if rw.csv != nil {
		return rw.flush()
	}
	end := "\n]\n"
	if rw.first {
		end = "]\n"
	}
	_, err := io.WriteString(rw.w, end)
	return err
}

// levelAction is the action whose decision gives a holder's effective level on a
// scope of kind k: one that applies to k and has no rule of its own beyond the level.
func levelAction(k rbac.Kind) rbac.Action {
	if rbac.AccessManage.Kinds().Has(k) {
		return rbac.AccessManage
	}
	for _, a := range rbac.Actions() {
		if a.Kinds().Has(k) && a != rbac.DomainContentView {
			return a
		}
	}
	return rbac.AccessManage
}

func runReview(e *env, args []string) error {
	tenant, err := resolveTenant(e.ctx, e.st, args[0])
	if err != nil {
		return err
	}
	now := time.Now()
	return e.st.View(e.ctx, func(ctx context.Context, r store.Reader) error {
		path, err := r.Path(ctx, tenant, nil)
		if err != nil {
			if _, nf := scopeName(ctx, r, tenant); nf != nil {
				return nf
			}
			return err
		}
		scopes, err := tree(ctx, r, tenant)
		if err != nil {
			return err
		}
		tenants := tenantsOf(path)
		for _, s := range scopes {
			if s.ref.Kind.Ownable() && !slices.Contains(tenants, s.ref) {
				tenants = append(tenants, s.ref)
			}
		}
		cands, err := candidates(ctx, r, tenants, false)
		if err != nil {
			return err
		}
		out, err := newReviewWriter(e.stdout, e.opt.json)
		if err != nil {
			return err
		}
		for _, c := range cands {
			var tok store.Token
			if c.holder.Kind == rbac.HolderToken {
				if tok, err = r.Token(ctx, c.holder.ID); err != nil {
					return err
				}
			}
			for _, s := range scopes {
				d, err := store.Check(ctx, r, c.holder, levelAction(s.ref.Kind), s.ref, now)
				if err != nil {
					return err
				}
				row := reviewRow{
					Holder: c.holder.String(), HolderName: c.name, MemberOf: refStrings(c.memberOf),
					Scope: s.ref.String(), ScopeName: s.name, Level: d.Level.String(), Via: grantOf(d.Grant),
					Inherited: !d.Grant.Holder.IsZero() && d.Grant.Scope != s.ref,
				}
				if c.holder.Kind == rbac.HolderToken {
					switch {
					case d.Rule == rbac.RuleTokenSecret:
						row.Note = fmt.Sprintf("the token no longer acts: expired or reset (%s)", rbac.RuleTokenSecret)
					case d.Level < d.Grant.Level:
						row.Note = fmt.Sprintf("capped by its creator user:%s's access (%s)", tok.CreatedBy, rbac.RuleTokenCreator)
					}
				}
				if err := out.write(row); err != nil {
					return err
				}
			}
			if err := out.flush(); err != nil {
				return err
			}
		}
		return out.close()
	})
}
