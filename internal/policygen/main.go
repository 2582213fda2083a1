// Command policygen writes POLICY.md, the policy table of package rbac as an auditor
// reads it. Run it with go generate from the module root. The text is rendered by
// internal/policydoc, which the tenantry command's policy subcommand prints too.
package main

import (
	"flag"
	"log"
	"os"

	"github.com/tenantry/tenantry/internal/policydoc"
)

func main() {
	out := flag.String("o", "POLICY.md", "output file")
	flag.Parse()
	if err := os.WriteFile(*out, Render(), 0o644); err != nil {
		log.Fatal(err)
	}
}

// Render returns the contents of POLICY.md.
func Render() []byte { return policydoc.Render() }
