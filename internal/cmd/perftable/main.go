// Command perftable runs the benchmarks behind README.md's performance table and
// prints the table, or writes it into README.md between the lines
// "<!-- perftable:begin -->" and "<!-- perftable:end -->".
//
// Every figure is the median of -count rounds. A round runs each package's
// benchmarks once, in one go test process, so a benchmark and its baseline (a
// floor, a SELECT 1) are measured side by side; a ratio is the median of the
// rounds' ratios, never one median over another taken at different times.
// Rows whose package needs PostgreSQL say "not measured" unless TENANTRY_PG_DSN is
// set (eval "$(.ci/postgres.sh start)").
//
// Usage, from the repository's root:
//
//	go run ./internal/cmd/perftable                 # print the table
//	go run ./internal/cmd/perftable -w README.md    # and write it into README.md
//	go run ./internal/cmd/perftable -rows memstore  # only the rows that match
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"time"
)

const (
	beginMark = "<!-- perftable:begin -->"
	endMark   = "<!-- perftable:end -->"
)

func main() {
	count := flag.Int("count", 5, "rounds; each figure is the median over them")
	benchtime := flag.String("benchtime", "1s", "go test's -benchtime for rows that do not set their own")
	write := flag.String("w", "", "write the table into this file between its perftable markers")
	only := flag.String("rows", "", "measure only the rows whose package or benchmark matches this regexp (not with -w)")
	flag.Parse()
	if err := run(*count, *benchtime, *write, *only, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "perftable:", err)
		os.Exit(1)
	}
}

func run(count int, benchtime, write, only string, stdout, stderr io.Writer) error {
	if count < 1 {
		return errors.New("-count must be at least 1")
	}
	rows := tableRows
	if only != "" {
		if write != "" {
			return errors.New("-rows measures part of the table: it cannot be written with -w")
		}
		re, err := regexp.Compile(only)
		if err != nil {
			return fmt.Errorf("-rows: %w", err)
		}
		rows = nil
		for _, r := range tableRows {
			if re.MatchString(r.pkg + " " + r.bench) {
				rows = append(rows, r)
			}
		}
	}
	invs := invocations(rows)
	res := map[*invocation]*results{}
	cpu := ""
	for round := range count {
		for _, v := range invs {
			if v.needs != "" && os.Getenv(v.needs) == "" {
				continue
			}
			bt := benchtime
			if v.benchtime != "" {
				bt = v.benchtime
			}
			args := []string{"test", "-run", "^$", "-bench", v.pattern(), "-benchmem", "-benchtime", bt, "-count", "1"}
			if v.cpu != "" {
				args = append(args, "-cpu", v.cpu)
			}
			args = append(args, v.pkg)
			fmt.Fprintf(stderr, "round %d/%d: go %s\n", round+1, count, strings.Join(args, " "))
			var out bytes.Buffer
			cmd := exec.Command("go", args...)
			cmd.Stdout, cmd.Stderr = &out, stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out.String())
			}
			if res[v] == nil {
				res[v] = newResults()
			}
			if err := res[v].add(&out, v.cpu != ""); err != nil {
				return err
			}
			if res[v].cpu != "" {
				cpu = res[v].cpu
			}
		}
	}
	var table strings.Builder
	fmt.Fprintf(&table, "Measured with `go run ./internal/cmd/perftable -w README.md` on %s: %s, %s/%s, %d CPUs (%s); every figure is the median of %d rounds, and every ratio the median of the rounds' ratios, both benchmarks measured in the same process.\n\n",
		time.Now().UTC().Format("2006-01-02"), runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpu, count)
	table.WriteString("| benchmark | median (per case) | target |\n|---|---|---|\n")
	for _, r := range rows {
		v := invs[indexOf(invs, r)]
		table.WriteString(r.render(res[v]) + "\n")
	}
	if write == "" {
		_, err := io.WriteString(stdout, table.String())
		return err
	}
	old, err := os.ReadFile(write)
	if err != nil {
		return err
	}
	updated, err := replaceBetween(string(old), table.String())
	if err != nil {
		return fmt.Errorf("%s: %w", write, err)
	}
	return os.WriteFile(write, []byte(updated), 0o644)
}

func indexOf(invs []*invocation, r row) int {
	for i, v := range invs {
		if v.pkg == r.pkg && v.cpu == r.cpu && v.benchtime == r.benchtime && v.needs == r.needs {
			return i
		}
	}
	panic("perftable: a row without its invocation")
}

// replaceBetween returns doc with the text between its begin and end marks (their
// lines kept) replaced by table.
func replaceBetween(doc, table string) (string, error) {
	i := strings.Index(doc, beginMark+"\n")
	j := strings.Index(doc, endMark)
	if i < 0 || j < i {
		return "", fmt.Errorf("no %q line followed by a %q line", beginMark, endMark)
	}
	return doc[:i+len(beginMark)+1] + table + doc[j:], nil
}
