package memstore

import (
	"math/bits"

	"github.com/tenantry/tenantry/rbac"
)

// maxCheckDepth is the deepest scope tree that decide handles; a deeper scope is
// decided by reach and rbac.Decide.
const maxCheckDepth = 8

// candidate is a grant that reaches a checked scope, before it is made an rbac.Grant:
// its level, the position of its scope on the checked path (0 is the checked scope,
// the leaf; -1: no candidate), its holder's number (noID for the checked holder
// itself) and its ViewContent.
type candidate struct {
	level   rbac.Level
	content bool
	at      int8
	hid     uint32
}

// checkPath is the scope path of a check, leaf first, as scope numbers and kinds.
type checkPath struct {
	sids     [maxCheckDepth]uint32
	kinds    [maxCheckDepth]rbac.Kind
	n        int
	accts    uint32 // bit i: scope i is an account or organization
	repeated uint32 // bit i: a scope nearer the root has the kind of scope i
	policies bool   // a scope of the path has a security policy
}

// walk fills p with the path from scope sid to its root, leaf first. It reports false
// when the path is deeper than maxCheckDepth.
func (s *state) walk(sid uint32, p *checkPath) bool {
	n := 0
	var accts, repeated uint32
	policies := false
	for id := sid; id != noID; n++ {
		if n == maxCheckDepth {
			return false
		}
		sc := &s.scopes[id]
		p.sids[n], p.kinds[n] = id, sc.ref.Kind
		if sc.acct != nil {
			accts |= 1 << n
		}
		policies = policies || sc.policy != nil
		id = sc.parent
	}
	// rbac.Decide matches a grant with the first scope of its kind from the root, so a
	// grant on a later one of the same kind does not reach.
	for i := 0; i < n-1; i++ {
		for j := i + 1; j < n; j++ {
			if p.kinds[j] == p.kinds[i] {
				repeated |= 1 << i
				break
			}
		}
	}
	p.n, p.accts, p.repeated, p.policies = n, accts, repeated, policies
	return true
}

// actionRow is what decide needs of an action's row of rbac's policy table: the level
// it needs, the kinds of scope it applies to, the rule a refusal cites, and whether
// rbac.Decide is to decide it (a row whose first rule is RuleViewContent, which may
// allow a viewer by its grant's ViewContent, or one that needs no level).
type actionRow struct {
	need    rbac.Level
	kinds   rbac.KindSet
	refuse  rbac.Rule
	generic bool
}

// actionRows holds the row of every valid action, by action.
var actionRows = func() []actionRow {
	acts := rbac.Actions()
	rows := make([]actionRow, len(acts)+1)
	for _, a := range acts {
		rules := a.Rules()
		rows[a] = actionRow{need: a.Need(), kinds: a.Kinds(), refuse: rules[0]}
		rows[a].generic = rules[0] == rbac.RuleViewContent || a.Need() <= rbac.None
	}
	return rows
}()

// decide sets *d to rbac.Decide(action, path, grants) for the path and grants that
// reach returns for h on the scope of p. It picks, among the grants reach would
// return, the one rbac.Decide would cite (the strongest, in rbac's total order) and
// the ViewContent grant on the leaf it would fall back to, and makes rbac.Grants of
// those two only. For a plain level row it then decides as rbac.Decide does on the
// strongest grant; for another (see actionRow) it hands rbac.Decide the path and those
// two grants, written into lk's buffers, which gives the same Decision as all the
// grants: the strongest of a subset holding the strongest is the same grant.
func (s *state) decide(h rbac.Holder, action rbac.Action, p *checkPath, lk *shard, d *rbac.Decision) {
	n := p.n
	pk := picker{s: s, h: h, p: p, best: candidate{at: -1}, content: candidate{at: -1}}
	hid, held := s.lookupHolder(h)
	if held {
		hd := &s.holders[hid]
		if !hd.big {
			for _, g := range hd.small {
				for i := range n {
					if p.sids[i] == g.sid {
						pk.add(candidate{level: g.v.level, at: int8(i), hid: noID, content: g.v.content})
						break
					}
				}
			}
		} else {
			for i := range n {
				if v, ok := s.grants[gkey(hid, p.sids[i])]; ok {
					pk.add(candidate{level: v.level, at: int8(i), hid: noID, content: v.content})
				}
			}
		}
	}
	if h.Kind == rbac.HolderUser {
		if held {
			for _, pl := range s.holders[hid].places {
				if !p.has(pl.tenant) {
					continue
				}
				for i := range n {
					if v, ok := s.grantOf(pl.team, p.sids[i]); ok {
						pk.add(candidate{level: v.level, at: int8(i), hid: pl.team, content: v.content})
					}
				}
			}
		}
		for m := p.accts; m != 0; m &= m - 1 {
			i := bits.TrailingZeros32(m)
			if s.scopes[p.sids[i]].acct.Owner == h.ID {
				pk.add(candidate{level: rbac.Owner, at: int8(i), hid: noID})
			}
		}
	}
	leaf := &s.scopes[p.sids[0]].ref
	if !action.Valid() || actionRows[action].generic || !actionRows[action].kinds.Has(leaf.Kind) || leaf.ID == "" {
		path := lk.path[:0]
		for i := n - 1; i >= 0; i-- {
			path = append(path, s.scopes[p.sids[i]].ref)
		}
		grants := lk.grants[:0]
		if pk.best.at >= 0 {
			grants = append(grants, pk.grant(pk.best))
		}
		if pk.content.at >= 0 && pk.content != pk.best {
			grants = append(grants, pk.grant(pk.content))
		}
		*d = rbac.Decide(action, path, grants)
		return
	}
	row := &actionRows[action]
	d.Action, d.Scope, d.Need = action, *leaf, row.need
	best := pk.best
	if best.at >= 0 {
		d.Level = best.level
		d.Grant = pk.grant(best)
	}
	switch {
	case d.Level >= d.Need:
		d.Allowed = true
		switch {
		case best.at == 0:
			d.Rule = rbac.RuleEffective
		case p.kinds[best.at] == rbac.KindOrganization && leaf.Kind != rbac.KindOrganization:
			d.Rule = rbac.RuleOrgReach
		default:
			d.Rule = rbac.RuleInherit
		}
	case row.refuse == rbac.RuleEffective && d.Level == rbac.None:
		d.Rule = rbac.RuleDenyDefault
	default:
		d.Rule = row.refuse
	}
}

// has reports whether scope sid is on p.
func (p *checkPath) has(sid uint32) bool {
	for i := range p.n {
		if p.sids[i] == sid {
			return true
		}
	}
	return false
}

// picker keeps, among the candidates decide adds, the strongest and the ViewContent
// candidate on the leaf with the least holder, as rbac.Decide picks them.
type picker struct {
	s             *state
	h             rbac.Holder
	p             *checkPath
	best, content candidate
}

// add considers c.
func (pk *picker) add(c candidate) {
	if c.level <= rbac.None || !c.level.Valid() || pk.p.repeated&(1<<c.at) != 0 ||
		(c.level == rbac.Owner && !pk.p.kinds[c.at].Ownable()) {
		return
	}
	if pk.best.at < 0 || c.level > pk.best.level || c.level == pk.best.level && pk.stronger(c, pk.best) {
		pk.best = c
	}
	if c.content && c.at == 0 {
		pk.addContent(c)
	}
}

// addContent considers c, a ViewContent candidate on the leaf, for content.
func (pk *picker) addContent(c candidate) {
	if pk.content.at < 0 || pk.holder(c.hid).Compare(pk.holder(pk.content.hid)) < 0 {
		pk.content = c
	}
}

// grant returns c as an rbac.Grant.
func (pk *picker) grant(c candidate) rbac.Grant {
	return rbac.Grant{Holder: pk.holder(c.hid), Scope: pk.s.scopes[pk.p.sids[c.at]].ref, Level: c.level, ViewContent: c.content}
}

// holder returns the holder of a candidate: the checked holder for noID, else holder
// hid.
func (pk *picker) holder(hid uint32) rbac.Holder {
	if hid == noID {
		return pk.h
	}
	return pk.s.holders[hid].h
}

// stronger is rbac's order of the grants that reach a scope, on candidates: a higher
// level first, then the grant nearer the scope, then by holder, then with ViewContent.
func (pk *picker) stronger(g, o candidate) bool {
	if g.level != o.level {
		return g.level > o.level
	}
	if g.at != o.at {
		return g.at < o.at
	}
	if g.hid != o.hid {
		if c := pk.holder(g.hid).Compare(pk.holder(o.hid)); c != 0 {
			return c < 0
		}
	}
	return g.content && !o.content
}
