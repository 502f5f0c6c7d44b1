package mail

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/sdnli/sdnli/irs/event"
)

func TestNormalizeAddress(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"plain", "user@example.com", "user@example.com", true},
		{"angle brackets", "<User@Example.COM>", "user@example.com", true},
		{"display name", `"Gurpartap Singh" <gurpartap@patriots.in>`, "gurpartap@patriots.in", true},
		{"display name unquoted", "Albert Zaharovits <albert@example.com>", "albert@example.com", true},
		{"spaces", "  <a@b.example>  ", "a@b.example", true},
		{"trailing comment", "a@b.example (Alice)", "a@b.example", true},
		{"trailing dot on domain", "a@example.com.", "a@example.com", true},
		{"source route", "<@relay1.example,@relay2.example:joe@example.org>", "joe@example.org", true},
		{"punycode domain", "hans@XN--MNCHEN-3YA.de", "hans@münchen.de", true},
		{"unicode domain upper", "hans@MÜNCHEN.DE", "hans@münchen.de", true},
		{"utf8 local part kept", "Jörg@Example.com", "jörg@example.com", true},
		{"quoted unnecessary", `"john.doe"@example.com`, "john.doe@example.com", true},
		{"quoted needed", `"john doe"@example.com`, `"john doe"@example.com`, true},
		{"quoted with at", `"a@b"@example.com`, `"a@b"@example.com`, true},
		{"quoted escape", `"a\"b"@example.com`, `"a\"b"@example.com`, true},
		{"quoted uppercase", `"John Doe"@Example.com`, `"john doe"@example.com`, true},
		{"quoted double dot", `"a..b"@x.example`, `"a..b"@x.example`, true},
		{"domain literal", "postmaster@[192.0.2.1]", "postmaster@[192.0.2.1]", true},
		{"domain literal v6", "u@[IPv6:2001:DB8::1]", "u@[ipv6:2001:db8::1]", true},
		{"underscore domain", "a@my_host.Example", "a@my_host.example", true},
		{"bad punycode kept lower", "a@XN--ZZ.example", "a@xn--zz.example", true},
		{"mail from with params", "<a@b.example> SIZE=100", "a@b.example", true},
		{"unclosed bracket", "<a@b.example", "a@b.example", true},
		{"null path", "<>", "", false},
		{"empty", "", "", false},
		{"no at", "postmaster", "", false},
		{"no local", "@example.com", "", false},
		{"no domain", "user@", "", false},
		{"control char", "us\x01er@example.com", "", false},
		{"space in domain", "a@exa mple.com", "", false},
		{"double dot domain", "a@example..com", "", false},
		{"too long", strings.Repeat("a", 300) + "@x.example", "", false},
		{"invalid utf8", "a\xff@x.example", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := NormalizeAddress(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("NormalizeAddress(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestNormalizeAddressIdempotent(t *testing.T) {
	for _, in := range []string{"A@B.example", `"x y"@Z.example`, "hans@xn--mnchen-3ya.de", "u@[IPv6:::1]", `"a\\b"@c.example`} {
		t.Run(in, func(t *testing.T) {
			once, ok := NormalizeAddress(in)
			if !ok {
				t.Fatalf("NormalizeAddress(%q) not ok", in)
			}
			twice, ok := NormalizeAddress(once)
			if !ok || twice != once {
				t.Errorf("NormalizeAddress(%q) = %q, %v; want %q (stable)", once, twice, ok, once)
			}
		})
	}
}

func TestNormalizeUser(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"plain", "Bob", "bob", true},
		{"email shaped", "Bob@Example.COM", "bob@example.com", true},
		{"domain user", `CORP\Alice`, `corp\alice`, true},
		{"empty", "  ", "", false},
		{"control", "bo\x00b", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := NormalizeUser(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("NormalizeUser(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestAddresses(t *testing.T) {
	m := &Message{
		From: []Address{{Name: "Alice", Address: "Alice@Example.com"}},
		To:   []Address{{Address: "bob@example.com"}, {Address: "BOB@example.com"}},
		Cc:   []Address{{Address: "carol@example.com"}},
		Bcc:  []Address{{Address: "not an address"}},
	}
	got := Addresses(m, "<alice@example.com>", []string{"<bob@example.com>", "<Bob@Example.com>", "<dave@example.com>"})
	want := []event.Address{
		{Address: "alice@example.com", Role: event.RoleMail},
		{Address: "bob@example.com", Role: event.RoleRcpt},
		{Address: "dave@example.com", Role: event.RoleRcpt},
		{Address: "alice@example.com", Role: event.RoleFrom},
		{Address: "bob@example.com", Role: event.RoleTo},
		{Address: "carol@example.com", Role: event.RoleCc},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Addresses:\n got %v\nwant %v", got, want)
	}

	var s AddressSet
	if !s.Add(event.RoleUser, "Bob") || s.Add(event.RoleUser, "bob") {
		t.Errorf("AddressSet user de-duplication failed: %v", s.List())
	}
	if got := Addresses(nil, "<>", nil); got != nil {
		t.Errorf("Addresses(nil, <>, nil) = %v; want nil", got)
	}
}

// TestPlainDomain: where the IDNA conversion is skipped, it would only
// have lower-cased the domain.
func TestPlainDomain(t *testing.T) {
	for _, d := range []string{"example.com", "Mail.Example.COM", "a-b.example", "xn--mnchen-3ya.de", "XN--MNCHEN-3YA.DE",
		"ab--cd.example", "-a.example", "a-.example", "a.-b", "a_b.example", "1.2.3.4", strings.Repeat("a", 64) + ".example",
		"münchen.de", "a..b", "a.b-", "x", "-", "xn--", "a.xn--zz"} {
		checkPlainDomain(t, d)
	}
}

func checkPlainDomain(t *testing.T, d string) {
	t.Helper()
	if plainDomain(d) {
		if got, want := asciiLower(d), idnaDomain(d); got != want {
			t.Errorf("domain %q: plain form %q, IDNA form %q", d, got, want)
		}
	}
}

// FuzzPlainDomain: the IDNA shortcut changes no domain.
func FuzzPlainDomain(f *testing.F) {
	for _, d := range []string{"example.com", "Xn--Mnchen-3ya.De", "a-b.c", "ab--c.d"} {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, d string) {
		if d == "" || d[0] == '.' || strings.Contains(d, "..") {
			return // normalizeDomain refuses these first
		}
		checkPlainDomain(t, d)
	})
}

// TestAddressSetSizes: duplicates are found the same in a small set
// (looked through) and a large one (a map from setScan addresses on),
// including those added before the map was built.
func TestAddressSetSizes(t *testing.T) {
	for _, n := range []int{1, setScan - 1, setScan, setScan + 1, 3 * setScan} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			var s AddressSet
			var want []event.Address
			for i := range n {
				a := "user" + strconv.Itoa(i) + "@example.com"
				if !s.Add(event.RoleTo, a) {
					t.Fatalf("Add(%q) = false for a new address", a)
				}
				want = append(want, event.Address{Address: a, Role: event.RoleTo})
			}
			for i := range n {
				a := "USER" + strconv.Itoa(i) + "@Example.COM"
				if s.Add(event.RoleTo, a) {
					t.Errorf("Add(%q) = true for a duplicate (set of %d)", a, n)
				}
			}
			if !s.Add(event.RoleCc, "user0@example.com") {
				t.Errorf("Add under another role = false, want true (set of %d)", n)
			}
			want = append(want, event.Address{Address: "user0@example.com", Role: event.RoleCc})
			if got := s.List(); !reflect.DeepEqual(got, want) {
				t.Errorf("List:\n got %v\nwant %v", got, want)
			}
		})
	}
}
