package policydoc

import "github.com/tenantry/tenantry/rbac"

// Document is the policy of package rbac as data: the levels, the scope tree, the
// policy table and the rule book. It encodes to JSON with the field names shown.
type Document struct {
	Levels  []Level  `json:"levels"`
	Kinds   []Kind   `json:"kinds"`
	Actions []Action `json:"actions"`
	Rules   []Rule   `json:"rules"`
}

// Level is an access level with its number (viewer 10, admin 100, owner 1000).
type Level struct {
	Name  string `json:"name"`
	Value int    `json:"value"`
}

// Kind is a kind of scope and its place in the scope tree.
type Kind struct {
	Kind string `json:"kind"`
	// Parent is the kind directly above, "" for a root.
	Parent string `json:"parent,omitempty"`
	// ParentOptional: a scope of this kind may have no parent (an account outside
	// any organization).
	ParentOptional bool `json:"parent_optional,omitempty"`
	// Ownable: scopes of this kind have an owner, who holds owner on them (D4).
	Ownable bool `json:"ownable"`
}

// Action is one row of the policy table.
type Action struct {
	Action string   `json:"action"`
	Kinds  []string `json:"kinds"` // the kinds of scope it applies to, in tree order
	Need   string   `json:"need"`  // the least level it needs there
	// NeedValue is Need's number.
	NeedValue int      `json:"need_value"`
	Rules     []string `json:"rules"` // the rules it implements; a refusal cites the first
	Doc       string   `json:"doc"`
}

// Rule is an entry of the rule book.
type Rule struct {
	Rule   string `json:"rule"`    // "D12"
	GoName string `json:"go_name"` // the rbac constant, "RuleNoEscalation"
	Text   string `json:"text"`
}

// Policy returns the policy of package rbac as a Document, in the order of POLICY.md.
func Policy() Document {
	var d Document
	for _, l := range rbac.Levels {
		d.Levels = append(d.Levels, Level{Name: l.String(), Value: int(l)})
	}
	for _, k := range rbac.Kinds() {
		kd := Kind{Kind: k.String(), Ownable: k.Ownable(), ParentOptional: k.ParentOptional()}
		if p := k.Parent(); p != 0 {
			kd.Parent = p.String()
		}
		d.Kinds = append(d.Kinds, kd)
	}
	for _, a := range rbac.Actions() {
		ad := Action{Action: a.String(), Need: a.Need().String(), NeedValue: int(a.Need()), Doc: a.Doc(), Kinds: []string{}, Rules: []string{}}
		for _, k := range a.Kinds().Kinds() {
			ad.Kinds = append(ad.Kinds, k.String())
		}
		for _, r := range a.Rules() {
			ad.Rules = append(ad.Rules, string(r))
		}
		d.Actions = append(d.Actions, ad)
	}
	for _, r := range rbac.Rules() {
		d.Rules = append(d.Rules, Rule{Rule: string(r), GoName: r.GoName(), Text: r.Text()})
	}
	return d
}
