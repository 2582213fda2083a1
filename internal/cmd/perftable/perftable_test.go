package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// round returns go test -bench output with the given check and floor times.
func round(check1k, floor1k, checkDeny, floorDeny string) string {
	return `goos: linux
goarch: amd64
pkg: github.com/tenantry/tenantry/store/memstore
cpu: Test CPU @ 2.00GHz
BenchmarkCheck/grants=1k/allow-2         	 8000000	       ` + check1k + ` ns/op	       0 B/op	       0 allocs/op
BenchmarkCheck/grants=1k/deny-2          	 8000000	       ` + checkDeny + ` ns/op	       0 B/op	       0 allocs/op
BenchmarkCheckFloor/grants=1k/allow-2    	20000000	        ` + floor1k + ` ns/op	       0 B/op	       0 allocs/op
BenchmarkCheckFloor/grants=1k/deny-2     	20000000	        ` + floorDeny + ` ns/op	       0 B/op	       0 allocs/op
BenchmarkCheckUnderWrites/writers=2-2    	 1000000	       150.0 ns/op	       131.0 p50-ns	      2100 p99-ns	     45000 p99.9-ns	  3100 tx/s
PASS
ok  	github.com/tenantry/tenantry/store/memstore	12.3s
`
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
		ok   bool
	}{{nil, 0, false}, {[]float64{3}, 3, true}, {[]float64{5, 1, 3}, 3, true}, {[]float64{4, 1, 3, 2}, 2.5, true}} {
		if got, ok := median(c.in); got != c.want || ok != c.ok {
			t.Errorf("median(%v) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// TestRatioIsMedianOfRoundRatios: the ratio is taken round by round, so a round
// that slows both benchmarks does not move it, where the ratio of the medians
// would.
func TestRatioIsMedianOfRoundRatios(t *testing.T) {
	res := newResults()
	for _, r := range []string{
		round("100", "80", "120", "60"),
		round("300", "240", "360", "180"), // a slow round: both three times slower
		round("110", "100", "130", "65"),
	} {
		if err := res.add(strings.NewReader(r), false); err != nil {
			t.Fatal(err)
		}
	}
	if res.cpu != "Test CPU @ 2.00GHz" {
		t.Errorf("cpu = %q", res.cpu)
	}
	if got := res.cases("BenchmarkCheck"); strings.Join(got, ",") != "grants=1k/allow,grants=1k/deny" {
		t.Errorf("cases = %v", got)
	}
	r := row{pkg: "./store/memstore", bench: "BenchmarkCheck", base: "BenchmarkCheckFloor", what: "w", target: "≤ 1.3×"}
	got := r.figures(res)
	// allow: ratios 1.25, 1.25, 1.1 → 1.25; medians 110 vs 100. deny: 2, 2, 2 → 2.
	want := "grants=1k/allow: 110 ns vs 100 ns: **1.25×**, 0 allocs<br>grants=1k/deny: 130 ns vs 65.0 ns: **2.00×**, 0 allocs"
	if got != want {
		t.Errorf("figures =\n%s\nwant\n%s", got, want)
	}
	line := r.render(res)
	if !strings.HasPrefix(line, "| `store/memstore` `BenchmarkCheck` / `BenchmarkCheckFloor`: w | ") || !strings.HasSuffix(line, " | ≤ 1.3× |") {
		t.Errorf("render = %s", line)
	}
}

func TestCustomUnits(t *testing.T) {
	res := newResults()
	if err := res.add(strings.NewReader(round("1", "1", "1", "1")), false); err != nil {
		t.Fatal(err)
	}
	r := row{bench: "BenchmarkCheckUnderWrites", units: []string{"p50-ns", "p99-ns", "p99.9-ns", "tx/s", "absent-ns"}}
	want := "writers=2: p50 131 ns, p99 2.10 µs, p99.9 45.0 µs, 3100 tx/s"
	if got := r.figures(res); got != want {
		t.Errorf("figures = %q; want %q", got, want)
	}
	if got := (row{needs: "TENANTRY_PG_DSN"}).figures(nil); got != "not measured: needs TENANTRY_PG_DSN" {
		t.Errorf("figures without results = %q", got)
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		v    float64
		unit string
		want string
	}{
		{131.4, "ns/op", "131 ns"}, {2345, "ns/op", "2.35 µs"}, {123456, "ns/op", "123 µs"}, {3.1e6, "ns/op", "3.10 ms"},
		{0.52, "p50-µs", "p50 520 ns"}, {0.42, "p50-ms", "p50 420 µs"}, {1430, "ns/member", "1.43 µs/member"},
		{0, "allocs/op", "0 allocs"}, {4235.2, "tx/s", "4235 tx/s"}, {240, "1st-µs", "1st 240 µs"},
	} {
		if got := format(c.v, c.unit); got != c.want {
			t.Errorf("format(%v, %q) = %q; want %q", c.v, c.unit, got, c.want)
		}
	}
}

func TestSameBenchmarkBaseline(t *testing.T) {
	res := newResults()
	out := "BenchmarkCheckRoundTrip/pool/select1-2 100 60000 ns/op\nBenchmarkCheckRoundTrip/pool/check-2 100 90000 ns/op\n"
	if err := res.add(strings.NewReader(out), false); err != nil {
		t.Fatal(err)
	}
	var r row
	for _, x := range tableRows {
		if x.pkg == "./store/pgstore" && x.bench == "BenchmarkCheckRoundTrip" {
			r = x
		}
	}
	if got, want := r.figures(res), "pool/check: 90.0 µs vs 60.0 µs: **1.50×**"; got != want {
		t.Errorf("figures = %q; want %q", got, want)
	}
}

func TestInvocations(t *testing.T) {
	invs := invocations([]row{
		{pkg: "./a", bench: "BenchmarkX", base: "BenchmarkXFloor"},
		{pkg: "./a", bench: "BenchmarkY"},
		{pkg: "./a", bench: "BenchmarkZ", cpu: "1,2"},
		{pkg: "./b", bench: "BenchmarkX", base: "BenchmarkX"},
	})
	var got []string
	for _, v := range invs {
		got = append(got, v.pkg+" "+v.cpu+" "+v.pattern())
	}
	want := []string{"./a  ^(BenchmarkX|BenchmarkXFloor|BenchmarkY)$", "./a 1,2 ^(BenchmarkZ)$", "./b  ^(BenchmarkX)$"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("invocations:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestReplaceBetween(t *testing.T) {
	doc := "intro\n" + beginMark + "\nold table\n" + endMark + "\nrest\n"
	got, err := replaceBetween(doc, "new\n")
	if err != nil || got != "intro\n"+beginMark+"\nnew\n"+endMark+"\nrest\n" {
		t.Errorf("replaceBetween = %q, %v", got, err)
	}
	if _, err := replaceBetween("no marks", "x"); err == nil {
		t.Error("replaceBetween without marks must fail")
	}
}

// TestRowsNameBenchmarksThatExist: every row's benchmarks are defined in its
// package, and README.md has the marks the table is written between.
func TestRowsNameBenchmarksThatExist(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	for _, r := range tableRows {
		files, err := filepath.Glob(filepath.Join(root, r.pkg, "*_test.go"))
		if err != nil || len(files) == 0 {
			t.Errorf("%s: no test files (%v)", r.pkg, err)
			continue
		}
		var src strings.Builder
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			src.Write(b)
		}
		for _, b := range []string{r.bench, r.base} {
			if b != "" && !regexp.MustCompile(`(?m)^func `+b+`\(b \*testing\.B\)`).MatchString(src.String()) {
				t.Errorf("%s: no func %s(b *testing.B)", r.pkg, b)
			}
		}
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := replaceBetween(string(readme), ""); err != nil {
		t.Errorf("README.md: %v", err)
	}
}

// TestCPUValuesKeptApart: in a run with -cpu 1,2 the runs of each value are cases
// of their own, and the row's ratio is the time at 2 CPUs over the time at 1.
func TestCPUValuesKeptApart(t *testing.T) {
	res := newResults()
	out := "BenchmarkCheckParallel/grants=1k \t100\t114 ns/op\nBenchmarkCheckParallel/grants=1k-2 \t100\t60 ns/op\n"
	if err := res.add(strings.NewReader(out), true); err != nil {
		t.Fatal(err)
	}
	var r row
	for _, x := range tableRows {
		if x.bench == "BenchmarkCheckParallel" {
			r = x
		}
	}
	if got, want := r.figures(res), "grants=1k/cpu=2: 60.0 ns vs 114 ns: **0.53×**"; got != want {
		t.Errorf("figures = %q; want %q", got, want)
	}
}
