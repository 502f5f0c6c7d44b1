//go:build integration

package controller_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/sdnli/sdnli/controller"
	"github.com/sdnli/sdnli/controller/ovslab"
	"github.com/sdnli/sdnli/controller/policy"
)

// writeCert issues a certificate (self-signed when parent is nil) and
// writes it and its key as PEM files under dir.
func writeCert(t *testing.T, dir, name string, usage x509.ExtKeyUsage, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "sdnli test " + name},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
		parent, parentKey = tmpl, key
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{usage}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	kb, _ := x509.MarshalECPrivateKey(key)
	if err := os.WriteFile(filepath.Join(dir, name+"-cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+"-key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key
}

var sslLine = regexp.MustCompile(`(?m)^(Private key|Certificate|CA Certificate): (.*)$`)

// TestLiveTLS: the switch connects over TLS (ssl:) with a certificate the
// controller's CA signed, and gets its flows. The SSL settings of Open
// vSwitch are global: the test puts back what was there.
func TestLiveTLS(t *testing.T) {
	ovslab.RequireOVS(t)
	dir := t.TempDir()
	ca, caKey := writeCert(t, dir, "ca", 0, nil, nil)
	writeCert(t, dir, "controller", x509.ExtKeyUsageServerAuth, ca, caKey)
	writeCert(t, dir, "switch", x509.ExtKeyUsageClientAuth, ca, caKey)

	prev := sslLine.FindAllStringSubmatch(ovslab.Must(t, "ovs-vsctl", "get-ssl"), -1)
	t.Cleanup(func() {
		if len(prev) == 3 {
			_, _ = ovslab.Run("ovs-vsctl", "set-ssl", prev[0][2], prev[1][2], prev[2][2])
		} else {
			_, _ = ovslab.Run("ovs-vsctl", "del-ssl")
		}
	})
	ovslab.Must(t, "ovs-vsctl", "set-ssl", filepath.Join(dir, "switch-key.pem"), filepath.Join(dir, "switch-cert.pem"), filepath.Join(dir, "ca-cert.pem"))

	b := newOneBridge(t, `"icmp": {"enabled": true}`)
	cfg, err := policy.ParseConfig([]byte(b.cfg))
	if err != nil {
		t.Fatal(err)
	}
	tc, err := controller.TLSConfig(filepath.Join(dir, "controller-cert.pem"), filepath.Join(dir, "controller-key.pem"), filepath.Join(dir, "ca-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c, err := controller.New(ctx, controller.Options{Config: cfg, Logger: slog.New(slog.NewTextHandler(testLog{t}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Serve(ctx, tls.NewListener(ln, tc)) }()
	t.Cleanup(func() { cancel(); <-done })

	b.br.SetController("ssl:" + ln.Addr().String())
	waitFor(t, 20*time.Second, "the switch to connect over TLS and get its flows", func() bool {
		ss := c.Sessions()
		return len(ss) == 1 && ss[0].Stats().Desired > 0 && hasFlow(b.br.Flows(), "icmp")
	})

	// A client without a certificate of the CA is refused.
	conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err == nil {
		conn.SetDeadline(time.Now().Add(2 * time.Second))
		_, err = conn.Read(make([]byte, 1))
		conn.Close()
	}
	if err == nil {
		t.Errorf("a TLS client without certificate was served")
	}
}
