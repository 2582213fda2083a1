package api_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	// The reference implementation of JSON Schema 2020-12, OpenAPI 3.1's dialect, in
	// Go: every response of the end-to-end tests is validated against the schema
	// that /openapi.json gives for its route and status. Imported by tests only.
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tenantry/tenantry/examples/apiserver/api"
)

// spec is the OpenAPI document with its schemas compiled, and a mux of the routes it
// documents, to find which route a request took.
var spec = sync.OnceValue(func() *openAPISpec {
	b, err := json.Marshal(api.OpenAPI())
	if err != nil {
		panic(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		panic(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(specURL, doc); err != nil {
		panic(err)
	}
	s := &openAPISpec{c: c, schemas: map[string]*jsonschema.Schema{}, mux: http.NewServeMux(), routes: map[string]api.Route{}, hits: map[string]map[bool]bool{}}
	for _, rt := range api.Routes() {
		pattern := rt.Method + " " + rt.Path
		s.routes[pattern] = rt
		s.mux.HandleFunc(pattern, func(http.ResponseWriter, *http.Request) {})
	}
	return s
})

const specURL = "https://tenantry.test/openapi.json"

type openAPISpec struct {
	mu      sync.Mutex
	c       *jsonschema.Compiler
	schemas map[string]*jsonschema.Schema
	mux     *http.ServeMux
	routes  map[string]api.Route
	hits    map[string]map[bool]bool // route pattern → success or not → seen
}

func (s *openAPISpec) schema(name string) (*jsonschema.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch, ok := s.schemas[name]; ok {
		return sch, nil
	}
	sch, err := s.c.Compile(specURL + "#/components/schemas/" + name)
	if err != nil {
		return nil, err
	}
	s.schemas[name] = sch
	return sch, nil
}

// check validates a response against the document: the route's success schema for
// its success status, the error schema for any other; and counts the route as
// exercised.
func (s *openAPISpec) check(r *http.Request, status int, body []byte) error {
	_, pattern := s.mux.Handler(r)
	rt, routed := s.routes[pattern]
	name := "Error"
	if routed && status == rt.Status {
		name = rt.Response
	}
	if routed && status < 300 && status != rt.Status {
		return fmt.Errorf("%s answered %d, documented %d", pattern, status, rt.Status)
	}
	if routed {
		s.mu.Lock()
		if s.hits[pattern] == nil {
			s.hits[pattern] = map[bool]bool{}
		}
		s.hits[pattern][status == rt.Status] = true
		s.mu.Unlock()
	}
	sch, err := s.schema(name)
	if err != nil {
		return fmt.Errorf("schema %s: %v", name, err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return err
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("%d response of %q does not validate against %s: %v", status, pattern, name, err)
	}
	return nil
}

// TestMain checks, after a full run, that the end-to-end tests exercised every route
// with a success and with a refusal.
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if code == 0 && flag.Lookup("test.run").Value.String() == "" && !testing.Short() {
		s := spec()
		var missing []string
		for pattern, rt := range s.routes {
			if !s.hits[pattern][true] {
				missing = append(missing, pattern+" (no "+strconv.Itoa(rt.Status)+")")
			}
			if !s.hits[pattern][false] && rt.Auth != api.AuthPublic {
				missing = append(missing, pattern+" (no refusal)")
			}
		}
		if len(missing) > 0 {
			slices.Sort(missing)
			fmt.Fprintf(os.Stderr, "routes the end-to-end tests do not exercise:\n  %s\n", strings.Join(missing, "\n  "))
			code = 1
		}
	}
	os.Exit(code)
}

// The document is served, is OpenAPI 3.1, and documents every route the handler
// serves, each with a summary and a response schema that compiles.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	f := newFixture(t)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(f.want(200, "GET", "/openapi.json", "", ""), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	n := 0
	for _, rt := range api.Routes() {
		n++
		if _, ok := doc.Paths[rt.Path][strings.ToLower(rt.Method)]; !ok {
			t.Errorf("%s %s is not documented", rt.Method, rt.Path)
		}
		if rt.Summary == "" || rt.Tag == "" {
			t.Errorf("%s %s has no summary or tag", rt.Method, rt.Path)
		}
		for _, name := range []string{rt.Response, rt.Body} {
			if _, err := spec().schema(cmpOr(name, "Error")); err != nil {
				t.Errorf("%s %s: %v", rt.Method, rt.Path, err)
			}
		}
		// The handler serves the route: a request without credentials is refused
		// (or answered), never "no such route".
		path := strings.NewReplacer("{account_id}", f.acct.Ref.ID, "{", "", "}", "").Replace(rt.Path)
		r := httptest.NewRequest(rt.Method, path, nil)
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, r)
		if w.Code == 404 || w.Code == 405 {
			if rt.Auth != api.AuthPublic {
				t.Errorf("%s %s: %d without credentials, as if it were not served", rt.Method, path, w.Code)
			}
		}
	}
	documented := 0
	for _, ops := range doc.Paths {
		documented += len(ops)
	}
	if documented != n {
		t.Errorf("%d operations documented, %d routes", documented, n)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
