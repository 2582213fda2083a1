//go:build unix

package sqlitestore

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
)

// mapWALIndex maps the header of the wal-index of the database at path (its -shm
// file) read-only. The mapping is released when the walIndex is garbage.
func mapWALIndex(path string) (*walIndex, error) {
	f, err := os.Open(path + "-shm")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() < 2*walHeaderBytes {
		return nil, fmt.Errorf("%s: %d bytes, too short for a wal-index", f.Name(), fi.Size())
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, 2*walHeaderBytes, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("%s: mmap: %w", f.Name(), err)
	}
	x := &walIndex{mem: mem}
	runtime.AddCleanup(x, func(mem []byte) { _ = syscall.Munmap(mem) }, mem)
	return x, nil
}
