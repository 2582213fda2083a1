//go:build !unix

package sqlitestore

import "errors"

// mapWALIndex maps the wal-index on Unix systems only; elsewhere the Store runs
// without its check cache, every check reading the database.
func mapWALIndex(string) (*walIndex, error) {
	return nil, errors.New("sqlitestore: the wal-index is mapped on Unix systems only")
}
