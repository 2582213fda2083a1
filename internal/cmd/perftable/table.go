package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// row is one line of the table: a benchmark of one package, measured alone or
// against a baseline benchmark of the same package taken in the same rounds.
type row struct {
	pkg   string // the package, as go test takes it: "./store/memstore"
	bench string // the top-level benchmark: "BenchmarkCheck"
	// base is the top-level baseline benchmark (a floor, a SELECT 1), if any. Its
	// sub-benchmark of the same name as the subject's is the subject's baseline,
	// unless baseCase says otherwise.
	base     string
	baseCase func(sub string) string
	// only keeps the sub-benchmarks whose names contain one of these; none: all.
	only []string
	// units are the units shown for each case, "ns/op" and "allocs/op" when nil. The
	// ratio to the baseline is taken on the first.
	units  []string
	what   string // what it measures, for the reader
	target string // the target it is held to, if any
	needs  string // an environment variable the package needs to run it
	cpu    string // go test's -cpu, if the row needs it
	// benchtime overrides the command's -benchtime for this row's benchmark ("1x"
	// for a benchmark that measures one load).
	benchtime string
}

func (r row) unitList() []string {
	if len(r.units) == 0 {
		return []string{"ns/op", "allocs/op"}
	}
	return r.units
}

// keep reports whether the row shows the sub-benchmark sub.
func (r row) keep(sub string) bool {
	if len(r.only) == 0 {
		return true
	}
	for _, o := range r.only {
		if strings.Contains(sub, o) {
			return true
		}
	}
	return false
}

func (r row) baseOf(sub string) string {
	if r.baseCase != nil {
		return r.baseCase(sub)
	}
	return sub
}

// render returns the row's Markdown table line from the results of its package.
func (r row) render(res *results) string {
	name := fmt.Sprintf("`%s` `%s`", strings.TrimPrefix(r.pkg, "./"), r.bench)
	if r.base != "" && r.base != r.bench {
		name += fmt.Sprintf(" / `%s`", r.base)
	}
	name += ": " + r.what
	return "| " + name + " | " + r.figures(res) + " | " + r.target + " |"
}

// figures returns the row's measurements: for each case, the median of each unit
// and, against a baseline, the baseline's median and the median of the rounds'
// ratios.
func (r row) figures(res *results) string {
	if res == nil {
		return "not measured: needs " + r.needs
	}
	var parts []string
	for _, sub := range res.cases(r.bench) {
		if !r.keep(sub) {
			continue
		}
		s := res.get(r.bench, sub)
		var vals []string
		for i, unit := range r.unitList() {
			m, ok := median(s[unit])
			if !ok {
				continue
			}
			v := format(m, unit)
			if i == 0 && r.base != "" {
				b := res.get(r.base, r.baseOf(sub))
				if bm, ok := median(b[unit]); ok {
					ratio, _ := median(ratios(s[unit], b[unit]))
					v += fmt.Sprintf(" vs %s: **%.2f×**", format(bm, unit), ratio)
				}
			}
			vals = append(vals, v)
		}
		if len(vals) == 0 {
			continue
		}
		label := sub
		if label == "" {
			label = "—"
		}
		parts = append(parts, label+": "+strings.Join(vals, ", "))
	}
	if len(parts) == 0 {
		return "no result"
	}
	return strings.Join(parts, "<br>")
}

// format writes a median in its unit: durations (ns/op, and units named
// "<label>-ns", "<label>-µs" or "<label>-ms") in the unit that suits them.
func format(v float64, unit string) string {
	if unit == "ns/op" {
		return duration(v)
	}
	if unit == "ns/member" {
		return duration(v) + "/member"
	}
	for suffix, scale := range map[string]float64{"-ns": 1, "-µs": 1e3, "-ms": 1e6} {
		if label, ok := strings.CutSuffix(unit, suffix); ok {
			return label + " " + duration(v*scale)
		}
	}
	switch unit {
	case "allocs/op":
		return trim(v) + " allocs"
	case "B/op":
		return trim(v) + " B"
	}
	return trim(v) + " " + unit
}

// duration writes ns nanoseconds with three significant digits in ns, µs, ms or s.
func duration(ns float64) string {
	switch {
	case ns < 1e3:
		return sig(ns) + " ns"
	case ns < 1e6:
		return sig(ns/1e3) + " µs"
	case ns < 1e9:
		return sig(ns/1e6) + " ms"
	default:
		return sig(ns/1e9) + " s"
	}
}

// sig writes v with three significant digits (all the digits of its integer part).
func sig(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// trim writes v without a fraction when it has none.
func trim(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return fmt.Sprintf("%.0f", v)
	}
	return sig(v)
}

// groups returns the rows' packages in order of first appearance, each with the
// set of go test invocations it needs: one per distinct (-cpu, -benchtime, needs),
// each running its benchmarks, baselines included, in one process.
type invocation struct {
	pkg, cpu, benchtime, needs string
	benches                    []string
}

func invocations(rows []row) []*invocation {
	var out []*invocation
	for _, r := range rows {
		i := slices.IndexFunc(out, func(v *invocation) bool {
			return v.pkg == r.pkg && v.cpu == r.cpu && v.benchtime == r.benchtime && v.needs == r.needs
		})
		if i < 0 {
			out = append(out, &invocation{pkg: r.pkg, cpu: r.cpu, benchtime: r.benchtime, needs: r.needs})
			i = len(out) - 1
		}
		for _, b := range []string{r.bench, r.base} {
			if b != "" && !slices.Contains(out[i].benches, b) {
				out[i].benches = append(out[i].benches, b)
			}
		}
	}
	return out
}

// pattern is the -bench regexp that runs exactly the invocation's top-level
// benchmarks, each with all of its sub-benchmarks.
func (v *invocation) pattern() string {
	return "^(" + strings.Join(v.benches, "|") + ")$"
}
