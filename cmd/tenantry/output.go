package main

import (
	"encoding/json"
	"io"
	"text/tabwriter"

	"github.com/tenantry/tenantry/rbac"
)

// grantJSON is a grant in JSON output.
type grantJSON struct {
	Holder      string `json:"holder"`
	Scope       string `json:"scope"`
	Level       string `json:"level"`
	ViewContent bool   `json:"view_content,omitempty"`
}

// grantOf returns g in JSON form, or nil for the zero grant (none reached).
func grantOf(g rbac.Grant) *grantJSON {
	if g.Holder.IsZero() {
		return nil
	}
	return &grantJSON{Holder: g.Holder.String(), Scope: g.Scope.String(), Level: g.Level.String(), ViewContent: g.ViewContent}
}

// decisionJSON is a decision in JSON output.
type decisionJSON struct {
	Allowed  bool       `json:"allowed"`
	Action   string     `json:"action"`
	Holder   string     `json:"holder,omitempty"`
	Scope    string     `json:"scope"`
	Need     string     `json:"need"`
	Level    string     `json:"level"` // the holder's effective level on the scope
	Grant    *grantJSON `json:"grant"` // what allowed; when denied, the strongest grant that reached
	Rule     string     `json:"rule"`
	RuleText string     `json:"rule_text"`
	Reason   string     `json:"reason"`
}

func decisionOf(h rbac.Holder, d rbac.Decision) decisionJSON {
	j := decisionJSON{
		Allowed: d.Allowed, Action: d.Action.String(), Scope: d.Scope.String(),
		Need: d.Need.String(), Level: d.Level.String(), Grant: grantOf(d.Grant),
		Rule: string(d.Rule), RuleText: d.Rule.Text(), Reason: d.Reason(),
	}
	if !h.IsZero() {
		j.Holder = h.String()
	}
	return j
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table returns a tabwriter for aligned columns; flush it when done.
func table(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}
