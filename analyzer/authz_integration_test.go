//go:build integration

package analyzer

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// TestAuthorizationMatrix calls every route as anonymous, analyst,
// auditor and admin and checks the status. It fails when a route exists
// that the table does not list, so a new route cannot ship without its
// access rule being written down here.
func TestAuthorizationMatrix(t *testing.T) {
	e := newEnv(t)
	who := []string{"anonymous", "analyst", "auditor", "admin"}
	logins := map[string]string{"analyst": "ann", "auditor": "aud", "admin": "root"}
	session := map[string]*user{"anonymous": e.anon()}
	for role, name := range logins {
		session[role] = e.login(name)
	}
	id := func(name string) string { return fmt.Sprint(e.ids[name]) }
	art := func(key string) string { return fmt.Sprint(e.arts[key]) }

	// want: anonymous, analyst, auditor, admin.
	type row struct {
		pattern, method, path string
		body                  any
		want                  [4]int
		// fresh: the call changes the client's session (login, logout),
		// so make it on a new one.
		fresh bool
	}
	table := []row{
		{"/api/v1/openapi.json", "GET", "/api/v1/openapi.json", nil, [4]int{200, 200, 200, 200}, false},
		{"/api/v1/health", "GET", "/api/v1/health", nil, [4]int{200, 200, 200, 200}, false},
		{"/api/v1/login", "POST", "/api/v1/login", map[string]string{"name": "zed", "password": password}, [4]int{200, 200, 200, 200}, true},
		{"/api/v1/logout", "POST", "/api/v1/logout", map[string]string{}, [4]int{401, 200, 200, 200}, true},
		{"/api/v1/me", "GET", "/api/v1/me", nil, [4]int{401, 200, 200, 200}, false},

		{"/api/v1/events", "GET", "/api/v1/events?email=alice@example.org", nil, [4]int{401, 200, 403, 200}, false},
		{"/api/v1/events/{id}", "GET", "/api/v1/events/" + id("e1"), nil, [4]int{401, 200, 403, 200}, false},
		{"/api/v1/events/{id}/email", "GET", "/api/v1/events/" + id("e1") + "/email", nil, [4]int{401, 200, 403, 200}, false},
		{"/api/v1/events/{id}/pcap", "GET", "/api/v1/events/" + id("e1") + "/pcap", nil, [4]int{401, 200, 403, 200}, false},
		{"/api/v1/artifacts/{id}", "GET", "/api/v1/artifacts/" + art("e1/eml"), nil, [4]int{401, 200, 403, 200}, false},

		{"/api/v1/mirror", "GET", "/api/v1/mirror", nil, [4]int{401, 403, 403, 200}, false},
		{"/api/v1/mirror/{protocol}", "PUT", "/api/v1/mirror/smtp", map[string]bool{"enabled": true}, [4]int{401, 403, 403, 200}, false},
		{"/api/v1/nodes", "GET", "/api/v1/nodes", nil, [4]int{401, 403, 403, 200}, false},
		{"/api/v1/switches", "GET", "/api/v1/switches", nil, [4]int{401, 403, 403, 200}, false},
		{"/api/v1/flows", "GET", "/api/v1/flows", nil, [4]int{401, 403, 403, 200}, false},
		{"/api/v1/topology", "GET", "/api/v1/topology", nil, [4]int{401, 403, 403, 200}, false},

		{"/api/v1/users", "GET", "/api/v1/users", nil, [4]int{401, 403, 403, 200}, false},
		{"/api/v1/users", "POST", "/api/v1/users", map[string]string{"name": "newbie", "role": "analyst", "password": "newbie password"}, [4]int{401, 403, 403, 201}, false},
		{"/api/v1/users/{name}", "PATCH", "/api/v1/users/zed", map[string]string{"role": "auditor"}, [4]int{401, 403, 403, 200}, false},

		{"/api/v1/audit", "GET", "/api/v1/audit", nil, [4]int{401, 403, 200, 200}, false},
		{"/api/v1/audit/verify", "GET", "/api/v1/audit/verify", nil, [4]int{401, 403, 200, 200}, false},
	}

	// Every route is in the table, and nothing else.
	listed := map[string]bool{}
	for _, r := range table {
		listed[r.method+" "+r.pattern] = true
	}
	var missing []string
	for _, r := range e.srv.Routes() {
		key := r.Method + " " + r.Pattern
		if !listed[key] {
			missing = append(missing, key)
		}
		delete(listed, key)
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("routes without a row in the authorization matrix: %s", strings.Join(missing, ", "))
	}
	for k := range listed {
		t.Errorf("matrix row %s is not a route", k)
	}

	for _, r := range table {
		for i, w := range who {
			t.Run(r.method+" "+r.pattern+"/"+w, func(t *testing.T) {
				u := session[w]
				if r.fresh {
					u = e.anon()
					if w != "anonymous" {
						u = e.login(logins[w])
					}
				}
				code, body, _ := u.do(r.method, r.path, r.body)
				if code != r.want[i] {
					t.Errorf("%s %s as %s: %d %.200s; want %d", r.method, r.path, w, code, body, r.want[i])
				}
			})
		}
	}
}
