package memstore

import (
	"sync"
	"sync/atomic"

	"github.com/tenantry/tenantry/rbac"
)

// lockShards is the number of reader shards of rwlock.
const lockShards = 16

// rwlock is a readers-writer lock whose readers scale across CPUs. A reader takes the
// read lock of one of lockShards RWMutexes, each on cache lines of its own; which one
// is decided by a token kept in a sync.Pool, whose per-processor cache hands a
// processor the same token again and again, so that the reader counts a processor
// writes stay in its own cache instead of moving between CPUs on every check. A writer
// takes every shard. Reads are cheap and parallel; writes pay lockShards lock
// operations.
type rwlock struct {
	shards [lockShards]paddedRWMutex
	tokens sync.Pool
	next   atomic.Uint32
}

type paddedRWMutex struct {
	sync.RWMutex
	_ [128 - 24]byte // a cache line pair per shard, whatever the alignment
}

// shard is a reader's token: the shard it read-locked, and scratch buffers that the
// reader owns until RUnlock, so that a check needs neither fresh nor zeroed memory.
type shard struct {
	i       uint32
	path    [4]rbac.Ref
	grants  [8]rbac.Grant
	path2   [4]rbac.Ref   // a token's creator's path
	grants2 [8]rbac.Grant // a token's creator's grants
	sids    checkPath     // the checked scope's path, as scope numbers
}

// RLock read-locks one shard and returns it, for RUnlock.
func (l *rwlock) RLock() *shard {
	t, _ := l.tokens.Get().(*shard)
	if t == nil {
		t = &shard{i: l.next.Add(1) % lockShards}
	}
	l.shards[t.i].RLock()
	return t
}

// RUnlock releases the shard RLock returned.
func (l *rwlock) RUnlock(t *shard) {
	l.shards[t.i].RUnlock()
	l.tokens.Put(t)
}

// Lock write-locks every shard, in order.
func (l *rwlock) Lock() {
	for i := range l.shards {
		l.shards[i].Lock()
	}
}

// Unlock releases every shard.
func (l *rwlock) Unlock() {
	for i := len(l.shards) - 1; i >= 0; i-- {
		l.shards[i].Unlock()
	}
}
