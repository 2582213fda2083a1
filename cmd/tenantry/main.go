// Command tenantry answers operators' and auditors' questions about a Tenantry store —
// who may do what, and why — on any store: the in-memory one (with a demo world to try
// the commands on), an SQLite file, or a PostgreSQL database.
//
// Usage:
//
//	tenantry [global flags] COMMAND [flags] [ARGS]
//
//	check ACTION HOLDER SCOPE     the decision and its reason: the grant that allows, or the rule that refuses
//	explain ACTION HOLDER SCOPE   the decision with the scope's path and every grant weighed
//	who-can ACTION SCOPE          every user, team, token and pending invitation allowed, with the grant that allows it
//	what-can HOLDER SCOPE         what HOLDER may do on SCOPE and every scope below it (--all: the refusals too)
//	policy                        the policy table as Markdown (POLICY.md), or as JSON
//	audit TENANT                  the audit log from a cursor (--after N); -f keeps following
//	review TENANT                 an access review as CSV or JSON (--format): every member, team, token and invitation × every scope
//	migrate                       create or upgrade the store's tables
//	help [COMMAND]                the usage of tenantry or of a command
//
// Global flags, accepted before or after the command:
//
//	--store STORE  memory: (default; or $TENANTRY_STORE), sqlite:FILE, postgres://USER@HOST/DB
//	--schema NAME  the PostgreSQL schema of the tables (default "tenantry")
//	--seed demo    first fill the store with the demo world: memory:, or an SQLite file that does not
//	               exist yet or is empty (a file that holds the demo already is left as it is)
//	--json         JSON output (one object per line for audit)
//
// Names: ACTION is an action of the policy table (inbox.read, project.create…; see
// tenantry policy). HOLDER is user:ID, team:ID, token:ID or invite:ID. SCOPE is
// organization:ID (or org:ID), account:ID, project:ID, inbox:ID, domain:ID, billing:ID,
// templates:ID or campaigns:ID. TENANT is account:ID or organization:ID; a bare ID names
// the account or organization that has it.
//
// Exit status:
//
//	0  success; for check and explain, allowed
//	1  check or explain: denied
//	2  usage error: an unknown command or flag, a malformed argument, --seed on a store that is not new
//	3  not found: the holder, scope, account or organization does not exist
//	4  any other error: the store cannot be opened or read, an SQLite file that does not exist
//
// The demo world (--seed demo) is built through the library's operations with IDs that
// are the same on every run: account:acct-1 "Acme" on the team plan, owned by
// user:user-1 (ann@acme.test); project:proj-1 "Web" with inbox:inbox-1 "Staging" and
// inbox:inbox-2 "Production"; domain:dom-1 "mail.acme.test"; user:user-2
// (carol@acme.test, account admin); user:user-3 (dave@acme.test, admin of Staging);
// user:user-4 (erin@acme.test, viewer of Web, in team:team-1 "Support", viewer of the
// domain); token:tok-1 "deploy" (carol's, admin of Web); invite:inv-4 (frank@acme.test,
// pending, viewer of Production). For example:
//
//	tenantry --seed demo who-can inbox.read inbox:inbox-2
//	tenantry --seed demo explain project.create user:user-4 account:acct-1
//	tenantry --store sqlite:demo.db --seed demo review account:acct-1 > review.csv
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/store"
)

// The exit codes.
const (
	exitOK       = 0
	exitDenied   = 1
	exitUsage    = 2
	exitNotFound = 3
	exitError    = 4
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usageText = `Usage: tenantry [global flags] COMMAND [flags] [ARGS]

tenantry answers operators' and auditors' questions about a Tenantry store: who may
do what, and why.

Commands:
  check ACTION HOLDER SCOPE     the decision and its reason: the grant that allows, or the rule that refuses
  explain ACTION HOLDER SCOPE   the decision with the scope's path and every grant weighed
  who-can ACTION SCOPE          every user, team, token and pending invitation allowed, with the grant
  what-can HOLDER SCOPE         what HOLDER may do on SCOPE and every scope below it (--all: refusals too)
  policy                        the policy table as Markdown (POLICY.md), or as JSON
  audit TENANT                  the audit log from a cursor (--after N); -f keeps following
  review TENANT                 an access review as CSV or JSON (--format): members, teams, tokens, invitations × scopes
  migrate                       create or upgrade the store's tables
  help [COMMAND]                this text, or a command's ('tenantry COMMAND -h' too)

Global flags (before or after the command):
  --store STORE   memory: (the default, or $TENANTRY_STORE), sqlite:FILE or postgres://USER@HOST/DB
  --schema NAME   the PostgreSQL schema of the tables (default "tenantry")
  --seed demo     first fill the store with the demo world: memory:, or an SQLite file that does
                  not exist yet or is empty (one that holds the demo already is left as it is)
  --json          JSON output (one object per line for audit)

Names:
  ACTION  an action of the policy table: inbox.read, project.create... ('tenantry policy')
  HOLDER  user:ID, team:ID, token:ID or invite:ID
  SCOPE   organization:ID (org:ID), account:ID, project:ID, inbox:ID, domain:ID,
          billing:ID, templates:ID or campaigns:ID
  TENANT  account:ID or organization:ID; a bare ID names the one that has it

Exit status:
  0  success; for check and explain, allowed
  1  check or explain: denied
  2  usage error: unknown command or flag, malformed argument, --seed on a store that is not new
  3  not found: the holder, scope, account or organization does not exist
  4  any other error: the store cannot be opened or read, an SQLite file that does not exist

The demo world (--seed demo), with the same IDs on every run:
  account:acct-1 "Acme" (team plan), owned by user:user-1 ann@acme.test
  project:proj-1 "Web" with inbox:inbox-1 "Staging" and inbox:inbox-2 "Production"
  domain:dom-1 "mail.acme.test"
  user:user-2 carol@acme.test   account admin
  user:user-3 dave@acme.test    admin of inbox Staging
  user:user-4 erin@acme.test    viewer of project Web; in team:team-1 "Support" (viewer of the domain)
  token:tok-1 "deploy"          carol's, admin of project Web
  invite:inv-4 frank@acme.test  pending, viewer of inbox Production

Examples:
  tenantry --seed demo who-can inbox.read inbox:inbox-2
  tenantry --seed demo explain project.create user:user-4 account:acct-1
  tenantry --store sqlite:demo.db --seed demo review account:acct-1 > review.csv
  tenantry --store "$DSN" audit account:acct-1 --after 120 -f
`

// options are the global flags.
type options struct {
	store  string
	schema string
	seed   string
	json   bool
}

// defaultStore is the store used without --store: $TENANTRY_STORE, else memory:.
func defaultStore() string {
	if s := os.Getenv("TENANTRY_STORE"); s != "" {
		return s
	}
	return "memory:"
}

// register adds the global flags to fs. The flags write to o without resetting it,
// so that a command's FlagSet can accept them after the command name too.
func (o *options) register(fs *flag.FlagSet) {
	addVar(fs, stringValue{&o.store}, "store", defaultStore(), "the `STORE`: memory:, sqlite:FILE or postgres://USER@HOST/DB; $TENANTRY_STORE sets the default")
	addVar(fs, stringValue{&o.schema}, "schema", "", "the PostgreSQL schema of the tables: `NAME` (default \"tenantry\")")
	addVar(fs, stringValue{&o.seed}, "seed", "", "first fill the store with a `WORLD`: demo (on memory:, or on an SQLite file that is new)")
	addVar(fs, boolValue{&o.json}, "json", "false", "JSON output")
}

// addVar defines a flag on fs whose default, shown in the help, is def; unlike
// fs.StringVar it does not write def to the variable.
func addVar(fs *flag.FlagSet, v flag.Value, name, def, usage string) {
	fs.Var(v, name, usage)
	fs.Lookup(name).DefValue = def
}

type stringValue struct{ p *string }

func (v stringValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

func (v stringValue) Set(s string) error { *v.p = s; return nil }

type boolValue struct{ p *bool }

func (v boolValue) String() string { return strconv.FormatBool(v.p != nil && *v.p) }

func (v boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	*v.p = b
	return nil
}

func (v boolValue) IsBoolFlag() bool { return true }

// command is a subcommand.
type command struct {
	name  string
	args  string // the positional arguments, for the usage line
	about string // the help text after the usage line
	// nargs is the number of positional arguments it takes.
	nargs int
	// noStore: the command reads no store (policy).
	noStore bool
	// flags adds the command's own flags and returns the function that runs it.
	flags func(fs *flag.FlagSet) func(e *env, args []string) error
}

var commands []*command // the subcommands, in the order of the usage text

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// usageError is a mistake on the command line (exit status 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// errDenied is returned by check and explain when the decision is a refusal, which
// they have printed already (exit status 1).
var errDenied = errors.New("denied")

// notFoundError names what was not found (exit status 3).
type notFoundError struct{ what string }

func (e *notFoundError) Error() string { return "not found: " + e.what }

func (e *notFoundError) Is(target error) bool { return target == store.ErrNotFound }

func notFound(what fmt.Stringer) error { return &notFoundError{what.String()} }

// exitCode maps an error of a command to the exit status.
func exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errDenied):
		return exitDenied
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, store.ErrNotFound):
		return exitNotFound
	}
	return exitError
}

// run runs the command line args and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opt := &options{store: defaultStore()}
	root := flag.NewFlagSet("tenantry", flag.ContinueOnError)
	root.SetOutput(io.Discard)
	root.Usage = func() {}
	opt.register(root)
	if err := root.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usageText)
			return exitOK
		}
		fmt.Fprintf(stderr, "tenantry: %v\nRun 'tenantry -h' for usage.\n", err)
		return exitUsage
	}
	if root.NArg() == 0 {
		fmt.Fprint(stderr, "tenantry: no command\n\n"+usageText)
		return exitUsage
	}
	name, rest := root.Arg(0), root.Args()[1:]
	if name == "help" {
		return help(rest, stdout, stderr)
	}
	c := lookup(name)
	if c == nil {
		fmt.Fprintf(stderr, "tenantry: unknown command %q\nRun 'tenantry -h' for usage.\n", name)
		return exitUsage
	}
	fs := c.flagSet(opt)
	runFn := c.flags(fs)
	pos, err := parseInterspersed(fs, rest)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.usage(stdout, fs)
			return exitOK
		}
		fmt.Fprintf(stderr, "tenantry %s: %v\nRun 'tenantry %s -h' for usage.\n", c.name, err, c.name)
		return exitUsage
	}
	if len(pos) != c.nargs {
		fmt.Fprintf(stderr, "tenantry %s: want %d arguments (%s), got %d\nRun 'tenantry %s -h' for usage.\n", c.name, c.nargs, c.args, len(pos), c.name)
		return exitUsage
	}
	err = c.exec(ctx, opt, runFn, pos, stdout, stderr)
	code := exitCode(err)
	if err != nil && code != exitDenied {
		fmt.Fprintf(stderr, "tenantry %s: %v\n", c.name, err)
		if code == exitUsage {
			fmt.Fprintf(stderr, "Run 'tenantry %s -h' for usage.\n", c.name)
		}
	}
	return code
}

// flagSet returns the command's FlagSet, with the global flags.
func (c *command) flagSet(opt *options) *flag.FlagSet {
	fs := flag.NewFlagSet("tenantry "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	opt.register(fs)
	return fs
}

// usage writes the command's help.
func (c *command) usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: tenantry %s [flags] %s\n\n%s\nFlags (the global flags included):\n", c.name, c.args, c.about)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	fmt.Fprint(w, "\nExit status: 0 success, 1 denied (check, explain), 2 usage error, 3 not found, 4 other error.\n")
}

// help is the help command.
func help(args []string, stdout, stderr io.Writer) int {
	switch len(args) {
	case 0:
		fmt.Fprint(stdout, usageText)
		return exitOK
	case 1:
		c := lookup(args[0])
		if c == nil {
			fmt.Fprintf(stderr, "tenantry help: unknown command %q\n", args[0])
			return exitUsage
		}
		fs := c.flagSet(&options{store: defaultStore()})
		c.flags(fs)
		c.usage(stdout, fs)
		return exitOK
	}
	fmt.Fprint(stderr, "tenantry help: want at most one command\n")
	return exitUsage
}

// parseInterspersed parses the flags of fs anywhere among args, as in
// "check --json inbox.read user:u1 inbox:i1" or "check inbox.read user:u1 inbox:i1
// --json", and returns the positional arguments. After "--" everything is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// exec opens the store (unless the command needs none), seeds it when asked, and
// runs the command.
func (c *command) exec(ctx context.Context, opt *options, runFn func(*env, []string) error, args []string, stdout, stderr io.Writer) error {
	e := &env{ctx: ctx, stdout: stdout, stderr: stderr, opt: opt}
	if c.noStore {
		return runFn(e, args)
	}
	if opt.seed != "" && opt.seed != "demo" {
		return usagef("--seed: unknown world %q (want demo)", opt.seed)
	}
	s, err := openStore(ctx, opt, c.name == "migrate")
	if err != nil {
		return err
	}
	defer s.close()
	e.st, e.storeInfo = s.st, s
	e.svc = account.New(s.st, account.Options{})
	if opt.seed == "demo" {
		seeded, err := seedIfNew(ctx, s)
		if err != nil {
			return err
		}
		if seeded && s.kind != "memory" {
			fmt.Fprintf(stderr, "tenantry: seeded %s with the demo world: account:%s \"Acme\", owned by user:%s (ann@acme.test); 'tenantry -h' lists it\n", s.desc, demoAccount, demoOwner)
		}
	}
	return runFn(e, args)
}

// env is what a command runs with.
type env struct {
	ctx            context.Context
	stdout, stderr io.Writer
	opt            *options
	st             store.Store
	svc            *account.Service
	storeInfo      *openedStore
}
