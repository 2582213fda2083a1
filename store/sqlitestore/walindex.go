package sqlitestore

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/tenantry/tenantry/rbac"
)

// The check cache.
//
// A check costs one SQL statement, and SQLite begins and ends a read transaction
// around it: two file locks, each a system call. Checks far outnumber writes, so the
// Store keeps the answers of recent checks, valid for one state of the database.
//
// The state is read from the wal-index header, which SQLite keeps at the start of the
// -shm file that every connection to the database maps in memory, in any process
// (https://sqlite.org/walformat.html). The header is two copies of 48 bytes; a
// writer rewrites it to publish each commit, the second copy first, then the first,
// and a read transaction sees exactly the commits that the header it finds describes
// (SQLite's readers use the header only when both copies agree). Among its fields are
// a counter incremented by each transaction, the number of frames in the WAL and the
// running checksum of those frames; after a checkpoint resets the WAL, its salt
// changes. Two different states of the database therefore never share a header, and
// every commit, by any connection of any process, changes it.
//
// A check reads the header (when both copies agree) before answering: a cached answer
// is used only when it was read at that very header. A miss runs the statement and
// caches its answer when the header read again afterwards has not changed, so the
// answer belongs to that header. The Store holds a connection open for its whole
// life, so that SQLite never deletes and re-creates the -shm file under the mapping.

// walHeader is a copy of the wal-index header: 48 bytes as 12 native-endian words.
type walHeader [12]uint32

const (
	walHeaderBytes = 48
	walVersion     = 3007000 // iVersion, the first word of the header
)

// walIndex is a read-only mapping of the start of a database's -shm file.
type walIndex struct {
	mem []byte // at least 2*walHeaderBytes long
}

// header returns the wal-index header, and false when its two copies differ (a commit
// is being published) or it is not initialised.
func (x *walIndex) header() (walHeader, bool) {
	var a, b walHeader
	base := unsafe.Pointer(unsafe.SliceData(x.mem))
	for i := range a {
		a[i] = atomic.LoadUint32((*uint32)(unsafe.Add(base, 4*i)))
	}
	for i := range b {
		b[i] = atomic.LoadUint32((*uint32)(unsafe.Add(base, walHeaderBytes+4*i)))
	}
	if a != b || a[0] != walVersion {
		return a, false
	}
	var w [4]byte // isInit is the byte at offset 12
	binary.NativeEndian.PutUint32(w[:], a[3])
	return a, w[0] != 0
}

// checkKey identifies a check's Reach: a holder and a scope.
type checkKey struct {
	holder rbac.Holder
	scope  rbac.Ref
}

// reachAnswer is a cached answer of the Checker's read: the path, grants and the
// security policies of the tenants on the path, with the user holder's address when
// one of them enforces single sign-on, or found false when the scope does not exist.
// It is never changed once cached.
type reachAnswer struct {
	path     rbac.Path
	grants   []rbac.Grant
	policies []rbac.Policy
	email    string
	found    bool
}

// checkCache holds the answers of Reach read at one wal-index header, at most max of
// them.
type checkCache struct {
	max int
	mu  sync.RWMutex
	hdr walHeader
	m   map[checkKey]*reachAnswer
}

func newCheckCache(max int) *checkCache {
	return &checkCache{max: max, m: make(map[checkKey]*reachAnswer)}
}

// get returns the answer cached for k at header hdr.
func (c *checkCache) get(hdr walHeader, k checkKey) (*reachAnswer, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.hdr != hdr {
		return nil, false
	}
	a, ok := c.m[k]
	return a, ok
}

// put caches a for k at header hdr, dropping the answers of any other header, or
// every answer when the cache is full.
func (c *checkCache) put(hdr walHeader, k checkKey, a *reachAnswer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hdr != hdr || len(c.m) >= c.max {
		clear(c.m)
		c.hdr = hdr
	}
	c.m[k] = a
}
