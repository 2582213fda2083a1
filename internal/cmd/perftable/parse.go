package main

import (
	"bufio"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// samples are the measurements of one benchmark (a full name, sub-benchmarks
// included, without the -GOMAXPROCS suffix): for each unit ("ns/op", "allocs/op",
// "p99.9-ns"...), one value per run.
type samples map[string][]float64

// results are the measurements of many runs of go test -bench, by benchmark name.
type results struct {
	byName map[string]samples
	order  []string // names in the order first seen
	cpu    string   // the "cpu:" line of the output, if any
}

func newResults() *results { return &results{byName: map[string]samples{}} }

// benchLine matches a result line: name, GOMAXPROCS suffix, iterations, then
// value-unit pairs.
var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-(\d+))?\s+\d+\s+(.*)$`)

// add reads the output of one go test -bench run and adds its measurements. With
// procs (a run with -cpu), each name gets "/cpu=N" appended, N its GOMAXPROCS (1
// when go test wrote no suffix), so that the runs of each -cpu value stay apart.
func (r *results) add(out io.Reader, procs bool) error {
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if cpu, ok := strings.CutPrefix(line, "cpu: "); ok {
			r.cpu = strings.TrimSpace(cpu)
			continue
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		fields := strings.Fields(m[3])
		if len(fields)%2 != 0 {
			continue
		}
		name := m[1]
		if procs {
			n := m[2]
			if n == "" {
				n = "1"
			}
			name += "/cpu=" + n
		}
		s := r.byName[name]
		if s == nil {
			s = samples{}
			r.byName[name] = s
			r.order = append(r.order, name)
		}
		for i := 0; i < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			s[fields[i+1]] = append(s[fields[i+1]], v)
		}
	}
	return sc.Err()
}

// median returns the median of xs (the mean of the two middle values for an even
// count), and false for none.
func median(xs []float64) (float64, bool) {
	if len(xs) == 0 {
		return 0, false
	}
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2, true
	}
	return s[n/2], true
}

// cases returns the sub-benchmark names ("grants=1k/allow") of the top-level
// benchmark top, in the order first seen; "" for a benchmark without sub-benchmarks.
func (r *results) cases(top string) []string {
	var out []string
	for _, name := range r.order {
		if name == top {
			out = append(out, "")
		} else if sub, ok := strings.CutPrefix(name, top+"/"); ok {
			out = append(out, sub)
		}
	}
	return out
}

// get returns the samples of top's sub-benchmark sub ("" for top itself).
func (r *results) get(top, sub string) samples {
	if sub == "" {
		return r.byName[top]
	}
	return r.byName[top+"/"+sub]
}

// ratios returns, run by run, num's unit over den's: the i-th run of one over the
// i-th of the other, both taken in the same round of go test, so that noise that
// slows a round slows both.
func ratios(num, den []float64) []float64 {
	var out []float64
	for i := range min(len(num), len(den)) {
		if den[i] != 0 {
			out = append(out, num[i]/den[i])
		}
	}
	return out
}
