package main

import (
	"errors"
	"os"
	"testing"
)

func TestIRSAPIURL(t *testing.T) {
	host, _ := os.Hostname()
	tests := []struct {
		name   string
		f      irsAPIFlags
		want   string
		usage  bool
		hasErr bool
	}{
		{"no API", irsAPIFlags{}, "", false, false},
		{"needs a token", irsAPIFlags{listen: ":8081"}, "", true, true},
		{"explicit URL", irsAPIFlags{listen: ":8081", token: "t", publicURL: "https://irs1.example:8443/"}, "https://irs1.example:8443", false, false},
		{"host given", irsAPIFlags{listen: "10.0.0.5:8081", token: "t"}, "http://10.0.0.5:8081", false, false},
		{"any address", irsAPIFlags{listen: ":8081", token: "t"}, "http://" + host + ":8081", false, false},
		{"v6 any", irsAPIFlags{listen: "[::]:8081", token: "t"}, "http://" + host + ":8081", false, false},
		{"v6 host", irsAPIFlags{listen: "[2001:db8::5]:8081", token: "t"}, "http://[2001:db8::5]:8081", false, false},
		{"bad address", irsAPIFlags{listen: "nonsense", token: "t"}, "", true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.f.url()
			if (err != nil) != tc.hasErr {
				t.Fatalf("err = %v; want error %v", err, tc.hasErr)
			}
			var ue usageError
			if err != nil && errors.As(err, &ue) != tc.usage {
				t.Errorf("err %v: usage error %v; want %v", err, errors.As(err, &ue), tc.usage)
			}
			if got != tc.want {
				t.Errorf("url = %q; want %q", got, tc.want)
			}
		})
	}
}
