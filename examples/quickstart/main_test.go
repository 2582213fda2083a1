package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// step finds the output line of the step that attempted what, and returns its outcome,
// its rule and the indented line below it (the reason), if any.
func step(t *testing.T, out, what string) (outcome, rule, why string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	re := regexp.MustCompile(`^(\S+)\s+([DCP]\d+)?\s+(.*?)\s*$`)
	for i, l := range lines {
		m := re.FindStringSubmatch(l)
		if m == nil || m[3] != what {
			continue
		}
		if i+1 < len(lines) && strings.HasPrefix(lines[i+1], " ") {
			why = strings.TrimSpace(lines[i+1])
		}
		return m[1], m[2], why
	}
	t.Fatalf("no step %q in the output:\n%s", what, out)
	return "", "", ""
}

func TestRun(t *testing.T) {
	var buf bytes.Buffer
	if err := run(&buf); err != nil {
		t.Fatalf("run: %v\n%s", err, buf.String())
	}
	out := buf.String()

	tests := []struct {
		what, outcome, rule, why string // why: a substring of the reason line
	}{
		{"erin (project viewer) reads inbox Production", "allowed", "D1", "viewer on project:"},
		{"erin (project viewer) renames inbox Production", "refused", "D5", "needs admin; holder has viewer"},
		{"dave (inbox admin) creates an inbox in Web", "refused", "D7", "inbox.create"},
		{"carol (account admin) manages billing", "allowed", "D1", "admin on account:"},
		{"carol removes erin from project Web", "done", "D14", ""},
		{"erin reads inbox Production now", "refused", "D6", "no grant reaches it"},
		{"seats in use before erin leaves project Web", "ok", "D20", "4 of 20 seats"},
		{"seats in use after: erin is still a member", "ok", "D20", "4 of 20 seats"},
		{"ann (owner) lists the members", "ok", "D18", "sees 4 people"},
		{"dave (admin of Staging) lists the members", "ok", "D18", "sees 3 people"},
		{"carol (admin) transfers the ownership to herself", "refused", "D16", "account.transfer"},
		{"carol lowers her own access to viewer", "refused", "D10", "access.manage"},
		{"dave makes himself admin of project Web", "refused", "D10", ""},
		{"carol removes ann, the owner, from the account", "refused", "D9", ""},
		{"ann (owner) leaves the account", "refused", "D15", ""},
		{"carol removes erin from the account", "done", "D13", ""},
		{"seats in use after erin's removal", "ok", "D20", "3 of 20 seats"},
		{"ann deletes her profile", "done", "D30", ""},
		{"carol opens account Acme", "gone", "D30", "not found"},
	}
	for _, tt := range tests {
		outcome, rule, why := step(t, out, tt.what)
		if outcome != tt.outcome || rule != tt.rule || !strings.Contains(why, tt.why) {
			t.Errorf("%s: got %s %s %q, want %s %s and a reason containing %q", tt.what, outcome, rule, why, tt.outcome, tt.rule, tt.why)
		}
	}

	// The inbox admin sees exactly ann, dave and carol: not erin, who no longer has
	// access to any resource dave administers (D18).
	_, _, why := step(t, out, "dave (admin of Staging) lists the members")
	if why != "sees 3 people: ann, dave, carol" {
		t.Errorf("dave's listing: %q", why)
	}
	_, _, why = step(t, out, "carol's accounts now")
	if strings.Contains(why, "Acme") {
		t.Errorf("carol still belongs to Acme after its owner deleted her profile: %q", why)
	}
	if !strings.Contains(out, "D16  Only the owner transfers ownership") {
		t.Errorf("the legend does not explain D16:\n%s", out)
	}
}

// The output is the same on every run: IDs are sequential, nothing depends on time.
func TestRunDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if err := run(&a); err != nil {
		t.Fatal(err)
	}
	if err := run(&b); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Errorf("two runs differ:\n%s\n---\n%s", a.String(), b.String())
	}
}
