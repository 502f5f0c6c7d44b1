package dsn

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
		wantErr  bool
	}{
		{"unix socket", "root@unix(/run/mysqld/mysqld.sock)/sdnli", []string{"parseTime=true", "charset=utf8mb4", "/sdnli"}, false},
		{"tcp keeps operator timeout", "u:p@tcp(127.0.0.1:3306)/db?timeout=1s", []string{"timeout=1s", "parseTime=true"}, false},
		{"garbage", "not a dsn", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Normalize(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Normalize(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("Normalize(%q) = %q, want it to contain %q", tc.in, got, w)
				}
			}
		})
	}
}
