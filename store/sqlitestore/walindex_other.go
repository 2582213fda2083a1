//go:build !unix

package sqlitestore

import "errors"

// mapWALIndex is not implemented on this system: the Store runs without its check
// cache.
func mapWALIndex(string) (*walIndex, error) {
	return nil, errors.New("mapping the wal-index is not implemented on this system")
}
