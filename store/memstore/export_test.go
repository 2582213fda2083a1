package memstore

import "github.com/tenantry/tenantry/rbac"

// CheckFloor is the bare minimum a check needs in this store's design, for
// BenchmarkCheckFloor: under one read lock of the store's own lock type, three map
// look-ups (the scope, the holder, the holder's grant on the scope) and a walk of the
// scope's path to its root, written into the lock token's path buffer. It decides
// nothing: it returns the level of the holder's grant on scope itself and the depth
// of the path.
func CheckFloor(s *Store, h rbac.Holder, scope rbac.Ref) (rbac.Level, int) {
	lk := s.mu.RLock()
	st := s.st
	var level rbac.Level
	path := lk.path[:0]
	sid, ok := st.scopeIdx.m[uint8(scope.Kind)][scope.ID]
	if ok {
		hid, held := st.holderIdx.m[uint8(h.Kind)][h.ID]
		if held {
			if v, ok := st.grants[gkey(hid, sid)]; ok {
				level = v.level
			}
		}
		for id := sid; id != noID; id = st.scopes[id].parent {
			path = append(path, st.scopes[id].ref)
		}
	}
	s.mu.RUnlock(lk)
	return level, len(path)
}
