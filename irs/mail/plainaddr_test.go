package mail

import (
	"reflect"
	"testing"

	"github.com/jhillyerd/enmime/v2"
)

// checkPlainAddressList: where plainAddressList answers, enmime gives the
// same list without an error.
func checkPlainAddressList(t *testing.T, v string) bool {
	t.Helper()
	got, ok := plainAddressList(v)
	if !ok {
		return false
	}
	want, err := enmime.ParseAddressList(v)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("%q: plain %v; enmime %v, %v", v, got, want, err)
	}
	// plainAddresses is the same list as Message.addressList keeps it.
	var wantKept []Address
	for _, a := range got {
		if len(wantKept) < maxAddresses {
			wantKept = append(wantKept, Address{Name: clip(a.Name), Address: clip(a.Address)})
		}
	}
	if kept, ok := plainAddresses(v); !ok || !reflect.DeepEqual(kept, wantKept) {
		t.Errorf("%q: plainAddresses %v, %v; want %v, true", v, kept, ok, wantKept)
	}
	return true
}

// checkPlainAddresses: where plainAddresses answers, enmime gives the
// same list (as Message.addressList keeps it) without an error.
func checkPlainAddresses(t *testing.T, v string) bool {
	t.Helper()
	got, ok := plainAddresses(v)
	if !ok {
		return false
	}
	list, err := enmime.ParseAddressList(v)
	var want []Address
	for _, a := range list {
		if a != nil && len(want) < maxAddresses {
			want = append(want, Address{Name: clip(a.Name), Address: clip(a.Address)})
		}
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("%q: plainAddresses %v; enmime %v, %v", v, got, want, err)
	}
	return true
}

func TestPlainAddresses(t *testing.T) {
	for _, c := range []struct {
		in    string
		plain bool
	}{
		{"a@example.com", true},
		{`"Example, Alice" <alice@example.com>`, true},
		{`"Doe, Jane" <jane@example.com>, "Roe, Richard" <rr@example.org>, x@y.example`, true},
		{`"Uetrecht, Daniel J." <uetrecht@umr.edu>`, true},
		{`"Doe, Jane <jane@example.com>`, false},
		{`"Doe, Jane" <jane@example.com>,`, false},
		{`"a,b"@example.com`, false},
		{`"Doe, Jane" "x" <jane@example.com>`, false},
		{`"a<b" <jane@example.com>`, false},
		{`Doe, Jane <jane@example.com>`, false},
	} {
		if got := checkPlainAddresses(t, c.in); got != c.plain {
			t.Errorf("%q: plainAddresses answered: %v, want %v", c.in, got, c.plain)
		}
	}
}

// FuzzPlainAddresses: the address lists Message.addressList reads
// without enmime are enmime's.
func FuzzPlainAddresses(f *testing.F) {
	for _, s := range []string{`"Doe, Jane" <jane@example.com>, b@c`, `"A, B" <a@b.c>`, "x <y@z>,w@v", `"a" <b@c>,"d,e" <f@g>`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		checkPlainAddresses(t, v)
	})
}

func TestPlainAddressList(t *testing.T) {
	for _, c := range []struct {
		in    string
		plain bool
	}{
		{"a@example.com", true},
		{"Alice Example <alice@example.com>", true},
		{"Alice  \t Example<alice@example.com>", true},
		{"Alice Example  <alice@example.com>", true},
		{"Alice B. C. Example <alice@example.com>", true},
		{"Alice Exa(mple <alice@example.com>", false},
		{`"Example, Alice" <alice@example.com>`, false}, // a comma in a quoted name
		{`"Alice Example" <alice@example.com>, bob@example.org`, true},
		{"John Q. Public <jqp@example.com>", true},
		{"<a@example.com>", true},
		{"a.b+tag@mail.example.com,c@d.example", true},
		{"a@example.com,", false},
		{"a@example.com, , b@example.org", false},
		{"a@b <c@d>", false},
		{"a @example.com", false},
		{"a@ example.com", false},
		{"< a@example.com>", false},
		{"a..b@example.com", false},
		{".a@example.com", false},
		{"a@example.com.", false},
		{"a@[192.0.2.1]", false},
		{`"a b"@example.com`, false},
		{`"a\"b" <a@example.com>`, false},
		{`"" <a@example.com>`, false},
		{"=?utf-8?Q?J=C3=B6rg?= <j@example.com>", false},
		{"Jörg <j@example.com>", false},
		{"a@example.com (Alice)", false},
		{"undisclosed-recipients:;", false},
		{"Alice", false},
		{"", false},
	} {
		if got := checkPlainAddressList(t, c.in); got != c.plain {
			t.Errorf("%q: plain decoder answered: %v, want %v", c.in, got, c.plain)
		}
	}
}

// FuzzPlainAddressList: the address shortcut gives enmime's list.
func FuzzPlainAddressList(f *testing.F) {
	for _, s := range []string{"a@example.com", `"A B" <a@b.c>, c@d`, "A. B <a.b@c.d>", "x <y@z>,w@v"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		checkPlainAddressList(t, v)
	})
}
