// Package sqlmigrate reads the migrations that the SQL stores (pgstore, sqlitestore)
// ship as plain goose files: NNNN_name.sql at the root of a file system, each with an
// Up section, which the stores' Migrate runs, and a Down section, which goose runs.
package sqlmigrate

import (
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
)

// Migration is one file: its version (NNNN), its name, and the statements of its Up
// section.
type Migration struct {
	Version int
	Name    string
	Up      string
}

// Load reads every NNNN_name.sql file at the root of fsys, in order of version; the
// errors name the store (pkg).
func Load(fsys fs.FS, pkg string) ([]Migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, name := range names {
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("%s: migration %s: name must be NNNN_name.sql", pkg, name)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		up, err := UpSection(string(body))
		if err != nil {
			return nil, fmt.Errorf("%s: migration %s: %w", pkg, name, err)
		}
		ms = append(ms, Migration{Version: v, Name: name, Up: up})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("%s: migrations %s and %s have the same version", pkg, ms[i-1].Name, ms[i].Name)
		}
	}
	return ms, nil
}

// UpSection returns the lines of a goose migration file between its "-- +goose Up"
// annotation and its "-- +goose Down" annotation (or its end), without the
// annotations.
func UpSection(body string) (string, error) {
	var b strings.Builder
	in, seen := false, false
	for line := range strings.Lines(body) {
		if a, ok := strings.CutPrefix(strings.TrimSpace(line), "-- +goose "); ok {
			switch strings.TrimSpace(a) {
			case "Up":
				if seen {
					return "", fmt.Errorf("two Up annotations")
				}
				in, seen = true, true
			case "Down":
				in = false
			case "StatementBegin", "StatementEnd":
			default:
				return "", fmt.Errorf("unsupported annotation %q", a)
			}
			continue
		}
		if in {
			b.WriteString(line)
		}
	}
	if !seen {
		return "", fmt.Errorf("no -- +goose Up annotation")
	}
	return b.String(), nil
}
