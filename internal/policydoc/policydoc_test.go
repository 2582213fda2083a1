package policydoc

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tenantry/tenantry/rbac"
)

// Every action of the table is a row of the Markdown and of the document, with the
// same least level.
func TestRenderAndPolicyAgree(t *testing.T) {
	md := Render()
	doc := Policy()
	if len(doc.Actions) != len(rbac.Actions()) || len(doc.Rules) != len(rbac.Rules()) || len(doc.Kinds) != len(rbac.Kinds()) {
		t.Fatalf("document has %d actions, %d rules, %d kinds", len(doc.Actions), len(doc.Rules), len(doc.Kinds))
	}
	for _, a := range doc.Actions {
		row := "| `" + a.Action + "` |"
		i := bytes.Index(md, []byte(row))
		if i < 0 {
			t.Fatalf("POLICY.md has no row for %s", a.Action)
		}
		line, _, _ := strings.Cut(string(md[i:]), "\n")
		if !strings.Contains(line, a.Need) || len(a.Kinds) == 0 || a.Doc == "" {
			t.Errorf("row %q disagrees with %+v", line, a)
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var back Document
	if err := json.Unmarshal(b, &back); err != nil || len(back.Actions) != len(doc.Actions) {
		t.Fatalf("round trip: %v", err)
	}
}
