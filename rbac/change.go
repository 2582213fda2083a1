package rbac

// Change is a proposed change of one grant: Actor gives Target level To on Scope,
// replacing level From (None when Target has no grant there; To None takes the grant
// away). The facts the rules need that are not in the grants themselves are given by
// the caller, who reads them from the store in the same transaction.
type Change struct {
	Actor Holder
	// ActorLevel is the actor's effective level on Scope (D5), its teams included.
	ActorLevel Level
	Target     Holder
	Scope      Ref
	From, To   Level
	// TargetIsOwner: Target is the owner of the account or organization Scope is in
	// (D9).
	TargetIsOwner bool
	// TargetIncludesActor: Target is the actor, or a team the actor belongs to (D10,
	// D24).
	TargetIncludesActor bool
}

// DecideChange decides whether c may be made. The rules are tried in this order and
// the first that refuses is cited: P4 (a valid level), D4 (owner is never granted),
// D9 (the owner's access is immutable), D10 and D24 (no change of one's own access),
// D11 (admin on the scope), D12 (no more than the actor holds, given or taken).
func DecideChange(c Change) Decision {
	d := Decision{Action: AccessManage, Scope: c.Scope, Need: Admin, Level: c.ActorLevel}
	if c.To > d.Need {
		d.Need = c.To
	}
	switch {
	case !c.To.Valid() || !c.From.Valid() || !c.ActorLevel.Valid():
		d.Rule = RuleInvalidLevel
	case !c.Scope.Kind.Valid() || c.Scope.ID == "" || c.Target.IsZero() || c.Actor.IsZero():
		d.Rule = RuleInvalidScope
	case c.To == Owner || c.From == Owner:
		d.Rule = RuleOwnerNotGrant
	case c.TargetIsOwner:
		d.Rule = RuleOwnerImmutable
	case c.Actor == c.Target || c.TargetIncludesActor:
		d.Rule = RuleNoSelfChange
		if c.Actor.Kind == HolderToken {
			d.Rule = RuleTokenSelf
		}
	case c.ActorLevel < Admin:
		d.Rule = RuleAdminChanges
	case c.To > c.ActorLevel || c.From > c.ActorLevel:
		d.Rule = RuleNoEscalation
	default:
		d.Allowed = true
		d.Rule = RuleAdminChanges
	}
	return d
}

// DecideTransfer decides whether actor, whose effective level on scope (an account or
// organization) is actorLevel, may transfer its ownership from owner to the user to
// (D16). toIsMember reports whether to is a member there. A sub-account's ownership
// moves only with its organization's (C4): pass subAccount true for a sub-account.
func DecideTransfer(actor Holder, actorLevel Level, owner, to Holder, scope Ref, toIsMember, subAccount bool) Decision {
	d := Decision{Action: AccountTransfer, Scope: scope, Need: Owner, Rule: RuleTransfer, Level: actorLevel}
	if scope.Kind == KindOrganization {
		d.Action = OrgTransfer
	}
	switch {
	case !scope.Kind.Ownable() || scope.ID == "":
		d.Rule = RuleInvalidScope
	case subAccount:
		d.Rule = RuleSubOwnership
	case actor.Kind != HolderUser || actor != owner:
	case to.Kind != HolderUser || to == owner || !toIsMember:
	default:
		d.Allowed = true
		d.Grant = Grant{Holder: owner, Scope: scope, Level: Owner}
	}
	return d
}

// DecideLeave decides whether member may leave scope (an account or organization)
// whose owner is owner (D15): anyone but the owner may.
func DecideLeave(member, owner Holder, scope Ref) Decision {
	d := Decision{Action: AccountView, Scope: scope, Rule: RuleLeave}
	if scope.Kind == KindOrganization {
		d.Action = OrgView
	}
	d.Allowed = member.Kind == HolderUser && member != owner && scope.Kind.Ownable()
	if member == owner {
		d.Level = Owner
	}
	return d
}

// DecideCreateAccount decides whether actor may create an account or organization of
// its own (D28): any user may, and becomes its owner; a token or team may not.
func DecideCreateAccount(actor Holder) Decision {
	d := Decision{Action: AccountView, Need: Owner, Rule: RuleCreateAccount}
	d.Allowed = actor.Kind == HolderUser && actor.ID != ""
	return d
}

// DecideRemoveMember decides whether actor, whose effective level on tenant (an account
// or organization) is actorLevel, may remove the user member from it (D13). Nobody
// removes the owner (D9) or themselves (D10: leaving is DecideLeave).
func DecideRemoveMember(actor Holder, actorLevel Level, member, owner Holder, tenant Ref) Decision {
	d := Decision{Action: AccountMembersRemove, Scope: tenant, Need: Admin, Level: actorLevel, Rule: RuleRemoveMember}
	if tenant.Kind == KindOrganization {
		d.Action = OrgUsersManage
	}
	switch {
	case !tenant.Kind.Ownable() || tenant.ID == "" || member.Kind != HolderUser:
		d.Rule = RuleInvalidScope
	case actorLevel < Admin:
	case member == owner:
		d.Rule = RuleOwnerImmutable
	case member == actor:
		d.Rule = RuleNoSelfChange
	default:
		d.Allowed = true
	}
	return d
}

// DecideTeamPlace decides whether actor, whose effective level on tenant is
// actorLevel, may add holder (a user or an invitation) to a team of tenant or take it
// out (D11): it needs admin on the tenant, and the holder may be neither the owner
// (D9) nor the actor (D10). Each of the team's grants, which the holder gains or loses
// with the place, is decided apart with DecideChange.
func DecideTeamPlace(actor Holder, actorLevel Level, holder, owner Holder, tenant Ref) Decision {
	d := Decision{Action: AccountTeamsManage, Scope: tenant, Need: Admin, Level: actorLevel, Rule: RuleAdminChanges}
	switch {
	case !tenant.Kind.Ownable() || tenant.ID == "" || holder.IsZero():
		d.Rule = RuleInvalidScope
	case actorLevel < Admin:
	case holder == owner:
		d.Rule = RuleOwnerImmutable
	case holder == actor:
		d.Rule = RuleNoSelfChange
	default:
		d.Allowed = true
	}
	return d
}
