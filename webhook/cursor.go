package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// CursorStore keeps each subscription's cursor: the Seq of the last event it has
// handled. The host implements it where it keeps its state (a table of its database,
// say), or uses MemoryCursors or FileCursors. Its methods may be called concurrently,
// for different subscriptions.
type CursorStore interface {
	// Load returns the subscription's cursor; 0, and no error, when none was saved.
	Load(ctx context.Context, subscription string) (uint64, error)
	// Save records the subscription's cursor. A later Load must return it, also after
	// a restart for a store that is to survive one.
	Save(ctx context.Context, subscription string, seq uint64) error
}

// MemoryCursors is a CursorStore in memory: the cursors last as long as the process.
// Its zero value is ready to use.
type MemoryCursors struct {
	mu sync.Mutex
	m  map[string]uint64
}

// Load implements CursorStore.
func (c *MemoryCursors) Load(_ context.Context, subscription string) (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[subscription], nil
}

// Save implements CursorStore.
func (c *MemoryCursors) Save(_ context.Context, subscription string, seq uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]uint64{}
	}
	c.m[subscription] = seq
	return nil
}

// FileCursors is a CursorStore in one JSON file, an object of subscription IDs to
// cursors. Each Save writes a new file beside it, syncs it and renames it over the old
// one, so that the file always holds a whole set of cursors, the last saved or the one
// before, even after a crash. One FileCursors at a time should use a file.
type FileCursors struct {
	path string
	mu   sync.Mutex
	m    map[string]uint64
}

// NewFileCursors returns the FileCursors of the file at path, reading the cursors it
// holds; a file that does not exist holds none (Save creates it, not its directory).
func NewFileCursors(path string) (*FileCursors, error) {
	c := &FileCursors{path: path, m: map[string]uint64{}}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return c, nil
	case err != nil:
		return nil, fmt.Errorf("webhook: cursors: %w", err)
	}
	if err := json.Unmarshal(b, &c.m); err != nil {
		return nil, fmt.Errorf("webhook: cursors in %s: %w", path, err)
	}
	return c, nil
}

// Load implements CursorStore.
func (c *FileCursors) Load(_ context.Context, subscription string) (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[subscription], nil
}

// Save implements CursorStore: it writes every cursor to the file, atomically.
func (c *FileCursors) Save(_ context.Context, subscription string, seq uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	old, had := c.m[subscription]
	c.m[subscription] = seq
	if err := c.write(); err != nil {
		if had {
			c.m[subscription] = old
		} else {
			delete(c.m, subscription)
		}
		return fmt.Errorf("webhook: save cursor: %w", err)
	}
	return nil
}

func (c *FileCursors) write() error {
	b, err := json.Marshal(c.m)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(c.path), filepath.Base(c.path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, c.path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}
