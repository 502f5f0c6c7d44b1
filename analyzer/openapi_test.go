package analyzer

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	_ "github.com/go-sql-driver/mysql"
)

// newOffline builds a Server whose database is never reached.
func newOffline(t *testing.T) *Server {
	t.Helper()
	db, err := sql.Open("mysql", "nobody@tcp(127.0.0.1:1)/none")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := New(Config{DB: db})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

type openAPIOp struct {
	Security  *[]map[string][]string `json:"security"`
	Roles     []string               `json:"x-roles"`
	Responses map[string]any         `json:"responses"`
	Summary   string                 `json:"summary"`
}

func loadOpenAPI(t *testing.T) (map[string]map[string]openAPIOp, map[string]any) {
	t.Helper()
	var doc struct {
		OpenAPI string                          `json:"openapi"`
		Paths   map[string]map[string]openAPIOp `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi = %q; want 3.x", doc.OpenAPI)
	}
	var raw map[string]any
	_ = json.Unmarshal(openAPIDoc, &raw)
	return doc.Paths, raw
}

// TestOpenAPIMatchesRouter: every route of the router is documented and
// every documented operation is a route, with the same access rule.
func TestOpenAPIMatchesRouter(t *testing.T) {
	s := newOffline(t)
	paths, _ := loadOpenAPI(t)
	documented := map[string]openAPIOp{}
	for p, ops := range paths {
		for m, op := range ops {
			documented[strings.ToUpper(m)+" "+p] = op
		}
	}
	var routed []string
	err := chi.Walk(s.router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		routed = append(routed, method+" "+route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(routed)
	for _, r := range routed {
		if _, ok := documented[r]; !ok {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for d := range documented {
		if !slices.Contains(routed, d) {
			t.Errorf("openapi.json documents %s, which the router does not serve", d)
		}
	}
	for _, ri := range s.Routes() {
		op, ok := documented[ri.Method+" "+ri.Pattern]
		if !ok {
			continue
		}
		t.Run(ri.Method+" "+ri.Pattern, func(t *testing.T) {
			public := op.Security != nil && len(*op.Security) == 0
			if public != ri.Public {
				t.Errorf("public in openapi = %v; router %v", public, ri.Public)
			}
			want := ri.Roles
			if !ri.Public && want == nil {
				want = []string{"admin", "analyst", "auditor"}
			}
			got := slices.Clone(op.Roles)
			slices.Sort(got)
			w := slices.Clone(want)
			slices.Sort(w)
			if !slices.Equal(got, w) {
				t.Errorf("x-roles = %v; router allows %v", got, w)
			}
			if op.Summary == "" || len(op.Responses) == 0 {
				t.Errorf("operation without summary or responses")
			}
			if !ri.Public {
				if _, ok := op.Responses["401"]; !ok {
					t.Errorf("no 401 response documented")
				}
			}
		})
	}
}

// TestOpenAPIRefsResolve: every $ref points at something.
func TestOpenAPIRefsResolve(t *testing.T) {
	_, raw := loadOpenAPI(t)
	var walk func(v any)
	n := 0
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if k == "$ref" {
					ref, _ := c.(string)
					n++
					var cur any = raw
					for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
						m, ok := cur.(map[string]any)
						if !ok {
							cur = nil
							break
						}
						cur = m[part]
					}
					if cur == nil {
						t.Errorf("$ref %q does not resolve", ref)
					}
					continue
				}
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(raw)
	if n < 20 {
		t.Errorf("only %d $refs found; the document looks truncated", n)
	}
}
