// Command ratio reads the output of the benchmarks of this module (go test -bench)
// on its standard input and prints, per size and case, each engine's ns/op and
// allocs/op and the ratio of each casbin model's time to Tenantry's. With -count
// above 1 it uses the median of the runs.
package main

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// line matches "BenchmarkCheck/size=1k/allow/tenantry-2   123   178.1 ns/op ...".
var line = regexp.MustCompile(`^BenchmarkCheck/size=([^/]+)/([^/]+)/(\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(.*)$`)

var allocs = regexp.MustCompile(`([\d.]+) allocs/op`)

const base = "tenantry"

type key struct{ size, cas, engine string }

type runs struct{ ns, allocs []float64 }

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ratio:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	data := map[key]*runs{}
	var sizes, cases, engines []string
	add := func(list *[]string, v string) {
		if !slices.Contains(*list, v) {
			*list = append(*list, v)
		}
	}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		ns, err := strconv.ParseFloat(m[4], 64)
		if err != nil {
			return err
		}
		k := key{m[1], m[2], m[3]}
		r := data[k]
		if r == nil {
			r = &runs{}
			data[k] = r
		}
		r.ns = append(r.ns, ns)
		if a := allocs.FindStringSubmatch(m[5]); a != nil {
			v, _ := strconv.ParseFloat(a[1], 64)
			r.allocs = append(r.allocs, v)
		}
		add(&sizes, m[1])
		add(&cases, m[2])
		add(&engines, m[3])
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(data) == 0 {
		return fmt.Errorf("no BenchmarkCheck results on input")
	}
	// Tenantry first, then the others in the order they appeared.
	slices.SortStableFunc(engines, func(a, b string) int {
		return cmp.Compare(boolInt(a != base), boolInt(b != base))
	})

	head := []string{"size", "case"}
	for _, e := range engines {
		head = append(head, e+" ns/op", e+" allocs/op")
		if e != base {
			head = append(head, e+"/"+base)
		}
	}
	fmt.Fprintln(out, "| "+strings.Join(head, " | ")+" |")
	fmt.Fprintln(out, "|"+strings.Repeat("---|", len(head)))
	for _, s := range sizes {
		for _, c := range cases {
			row := []string{s, c}
			b := data[key{s, c, base}]
			for _, e := range engines {
				r := data[key{s, c, e}]
				if r == nil {
					row = append(row, "", "")
					if e != base {
						row = append(row, "")
					}
					continue
				}
				row = append(row, fmt.Sprintf("%.0f", median(r.ns)), fmt.Sprintf("%.0f", median(r.allocs)))
				if e != base {
					ratio := ""
					if b != nil && median(b.ns) > 0 {
						ratio = fmt.Sprintf("%.0f×", median(r.ns)/median(b.ns))
					}
					row = append(row, ratio)
				}
			}
			fmt.Fprintln(out, "| "+strings.Join(row, " | ")+" |")
		}
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
