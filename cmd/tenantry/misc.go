package main

import (
	"flag"
	"fmt"

	"github.com/tenantry/tenantry/internal/policydoc"
)

var policyCmd = &command{
	name: "policy", nargs: 0, noStore: true,
	about: `Prints the policy of package rbac: by default as Markdown, the text of POLICY.md
(the scope tree, every action with the kinds it applies to, its least level and its
rules, the rules on changing access, the rule book); with --json as one JSON object
with "levels", "kinds", "actions" (action, kinds, need, need_value, rules, doc) and
"rules" (rule, go_name, text). It reads no store.

Exit status 0.
`,
	flags: func(fs *flag.FlagSet) func(*env, []string) error {
		return func(e *env, _ []string) error {
			if e.opt.json {
				return writeJSON(e.stdout, policydoc.Policy())
			}
			_, err := e.stdout.Write(policydoc.Render())
			return err
		}
	},
}

var migrateCmd = &command{
	name: "migrate", nargs: 0,
	about: `Creates the store's tables, or brings them up to the version this build knows:
pgstore's Migrate in the --schema of a PostgreSQL database, sqlitestore's Migrate in
an SQLite file (created when it does not exist). Migrating is idempotent. The memory:
store has nothing to migrate.

Exit status 0, 4 when the store cannot be opened or migrated.
`,
	flags: func(fs *flag.FlagSet) func(*env, []string) error {
		return func(e *env, _ []string) error {
			v, err := e.storeInfo.migrate(e.ctx)
			if err != nil {
				return err
			}
			if e.opt.json {
				return writeJSON(e.stdout, struct {
					Store   string `json:"store"`
					Version int    `json:"version"`
				}{e.storeInfo.kind, v})
			}
			if e.storeInfo.kind == "memory" {
				_, err = fmt.Fprintln(e.stdout, "memory: nothing to migrate")
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "%s: at schema version %d\n", e.storeInfo.desc, v)
			return err
		}
	},
}

func init() {
	commands = []*command{checkCmd, explainCmd, whoCanCmd, whatCanCmd, policyCmd, auditCmd, reviewCmd, migrateCmd}
}
