//go:build integration

package ssh

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
	_ "github.com/sdnli/sdnli/irs/parser/all"
)

// xClient is a stand-in X11 client run on the server: it opens the
// display sshd forwards (with the cookie sshd stored for it), sends the
// X11 connection setup and then bursts of request-sized writes, reading
// back what the fake X server (socat echoing) returns.
const xClient = `import os, socket, struct, subprocess, time
d = os.environ["DISPLAY"]
num = int(d.rsplit(":", 1)[1].split(".")[0])
f = subprocess.run(["xauth", "list", d], capture_output=True, text=True).stdout.split()
cookie = bytes.fromhex(f[2]) if len(f) >= 3 else b""
name = b"MIT-MAGIC-COOKIE-1"
pad = lambda b: b + b"\0" * ((4 - len(b) % 4) % 4)
s = socket.create_connection(("127.0.0.1", 6000 + num))
s.settimeout(10)
setup = b"l\0" + struct.pack("<HHHH", 11, 0, len(name), len(cookie)) + b"\0\0" + pad(name) + pad(cookie)
s.sendall(setup)
got = 0
while got < len(setup):
    got += len(s.recv(65536))
for burst in range(6):
    for i in range(20):
        req = bytes([72, 2]) + struct.pack("<H", 500) + bytes(1996)
        s.sendall(req)
        want = len(req)
        while want > 0:
            want -= len(s.recv(65536))
        time.sleep(0.01)
    time.sleep(0.3)
s.close()
print("x11 done")
`

// scenario is one use of SSH and what the parser must make of it.
type scenario struct {
	name string
	run  func(t *testing.T, l *lab)
	// want is the main verdict; an ssh-activity of that kind must be
	// listed too.
	want  string
	check func(t *testing.T, ev *event.Event)
	// wantAuth is the inferred authentication result ("" means success).
	wantAuth string
	// acts are further activity kinds that must be listed.
	acts []string
	// cipher is the negotiated client-to-server cipher ("" means
	// OpenSSH's default, chacha20-poly1305@openssh.com).
	cipher string
}

func randomFile(t *testing.T, path string, n int) {
	t.Helper()
	b := make([]byte, n)
	_, _ = rand.Read(b)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func sameFile(t *testing.T, a, b string) {
	t.Helper()
	x, err1 := os.ReadFile(a)
	y, err2 := os.ReadFile(b)
	if err1 != nil || err2 != nil || string(x) != string(y) {
		t.Fatalf("copy %s → %s did not arrive intact (%v, %v)", a, b, err1, err2)
	}
}

func (l *lab) runA(t *testing.T, timeout time.Duration, stdin *typer, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := l.a.cmd(ctx, name, args...)
	cmd.Env = append(os.Environ(), "XAUTHORITY="+filepath.Join(l.dir, "xauthority"), "DISPLAY=localhost:99")
	if stdin != nil {
		cmd.Stdin = stdin
	}
	cmd.WaitDelay = 3 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

var scenarios = []scenario{
	{
		name: "interactive",
		run: func(t *testing.T, l *lab) {
			out := l.runA(t, time.Minute, &typer{s: "echo typed-by-hand\nls /\nexit\n", delay: 150 * time.Millisecond},
				"ssh", l.sshArgs("-tt", "root@"+l.b.addr)...)
			if !strings.Contains(out, "typed-by-hand") {
				t.Fatalf("remote shell did not echo the typed command: %s", out)
			}
		},
		want: "interactive",
	},
	{
		// Typing, then a command that prints megabytes, then typing:
		// still an interactive session, with the bulk output as one of
		// its activities.
		name: "interactive-with-bulk-output",
		run: func(t *testing.T, l *lab) {
			out := l.runA(t, time.Minute, &typer{s: "echo start\nhead -c 600000 /dev/zero | base64 -w 0; echo\n\n\n\n\necho typed-after\nexit\n", delay: 150 * time.Millisecond},
				"ssh", l.sshArgs("-tt", "root@"+l.b.addr)...)
			if !strings.Contains(out, "typed-after") {
				t.Fatalf("remote shell did not echo the last command: %.300s", out)
			}
		},
		want: "interactive",
		acts: []string{"file-download"},
	},
	{
		// The size model under a block cipher with a classic MAC
		// (length encrypted, 16-byte blocks, 32-byte MAC): keystroke 64.
		name: "interactive-aes-ctr",
		run: func(t *testing.T, l *lab) {
			out := l.runA(t, time.Minute, &typer{s: "echo typed-by-hand\nexit\n", delay: 150 * time.Millisecond},
				"ssh", l.sshArgs("-tt", "-c", "aes128-ctr", "-m", "hmac-sha2-256", "root@"+l.b.addr)...)
			if !strings.Contains(out, "typed-by-hand") {
				t.Fatalf("remote shell did not echo the typed command: %s", out)
			}
		},
		want:   "interactive",
		cipher: "aes128-ctr",
		check: func(t *testing.T, ev *event.Event) {
			evidence(t, ev, "keystroke_size_c2s", "64")
			if got := fmt.Sprint(ev.Summary.Get("length_c2s")); got != "encrypted" {
				t.Errorf("length_c2s %s; want encrypted", got)
			}
		},
	},
	{
		// AES-GCM: length in clear, 16-byte blocks, 16-byte tag.
		name: "interactive-aes-gcm",
		run: func(t *testing.T, l *lab) {
			out := l.runA(t, time.Minute, &typer{s: "echo typed-by-hand\nexit\n", delay: 150 * time.Millisecond},
				"ssh", l.sshArgs("-tt", "-c", "aes256-gcm@openssh.com", "root@"+l.b.addr)...)
			if !strings.Contains(out, "typed-by-hand") {
				t.Fatalf("remote shell did not echo the typed command: %s", out)
			}
		},
		want:   "interactive",
		cipher: "aes256-gcm@openssh.com",
		check: func(t *testing.T, ev *event.Event) {
			evidence(t, ev, "keystroke_size_c2s", "36")
			if got := fmt.Sprint(ev.Summary.Get("length_c2s")); got != "cleartext" {
				t.Errorf("length_c2s %s; want cleartext", got)
			}
			// With the length in clear every packet is framed, and the
			// USERAUTH_SUCCESS is found by its exact size.
			if n, _ := ev.Summary.Get("ssh_packets_c2s").(int); n < 20 {
				t.Errorf("ssh_packets_c2s %v; want every framed packet (≥ 20)", ev.Summary.Get("ssh_packets_c2s"))
			}
			if e := fmt.Sprint(ev.Summary.Get("auth_evidence")); !strings.HasPrefix(e, "packets framed") {
				t.Errorf("auth_evidence %q; want the framed USERAUTH_SUCCESS", e)
			}
		},
	},
	{
		name: "scp-upload",
		run: func(t *testing.T, l *lab) {
			src := filepath.Join(l.dir, "up.bin")
			randomFile(t, src, 3<<20)
			l.runA(t, time.Minute, nil, "scp", l.sshArgs("-l", "40000", src, "root@"+l.b.addr+":"+src+".copy")...)
			sameFile(t, src, src+".copy")
		},
		want:  "file-upload",
		check: fileProtocol("sftp"), // OpenSSH 9's scp speaks SFTP
	},
	{
		name: "scp-download",
		run: func(t *testing.T, l *lab) {
			src := filepath.Join(l.dir, "down.bin")
			randomFile(t, src, 3<<20)
			l.runA(t, time.Minute, nil, "scp", l.sshArgs("-l", "40000", "root@"+l.b.addr+":"+src, src+".copy")...)
			sameFile(t, src, src+".copy")
		},
		want:  "file-download",
		check: fileProtocol("sftp"),
	},
	{
		name: "scp-legacy-upload",
		run: func(t *testing.T, l *lab) {
			src := filepath.Join(l.dir, "up-legacy.bin")
			randomFile(t, src, 3<<20)
			l.runA(t, time.Minute, nil, "scp", l.sshArgs("-O", "-l", "40000", src, "root@"+l.b.addr+":"+src+".copy")...)
			sameFile(t, src, src+".copy")
		},
		want:  "file-upload",
		check: fileProtocol("scp"), // -O: the legacy scp protocol over exec
	},
	{
		name: "scp-legacy-download",
		run: func(t *testing.T, l *lab) {
			src := filepath.Join(l.dir, "down-legacy.bin")
			randomFile(t, src, 3<<20)
			l.runA(t, time.Minute, nil, "scp", l.sshArgs("-O", "-l", "40000", "root@"+l.b.addr+":"+src, src+".copy")...)
			sameFile(t, src, src+".copy")
		},
		want:  "file-download",
		check: fileProtocol("scp"),
	},
	{
		name: "sftp-batch",
		run: func(t *testing.T, l *lab) {
			src := filepath.Join(l.dir, "sftp.bin")
			randomFile(t, src, 3<<20)
			batch := filepath.Join(l.dir, "batch")
			if err := os.WriteFile(batch, []byte("ls "+l.dir+"\nget "+src+" "+src+".copy\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			l.runA(t, time.Minute, nil, "sftp", l.sshArgs("-l", "40000", "-b", batch, "root@"+l.b.addr)...)
			sameFile(t, src, src+".copy")
		},
		want:  "file-download",
		check: fileProtocol("sftp"),
	},
	{
		name: "x11",
		run: func(t *testing.T, l *lab) {
			l.daemon(t, l.a, "socat", "TCP-LISTEN:6099,bind=127.0.0.1,reuseaddr,fork", "EXEC:cat")
			l.waitPort(t, l.a, "127.0.0.1", 6099)
			script := filepath.Join(l.dir, "xclient.py")
			if err := os.WriteFile(script, []byte(xClient), 0o644); err != nil {
				t.Fatal(err)
			}
			out := l.runA(t, time.Minute, nil, "ssh", l.sshArgs("-X", "-o", "ForwardX11Trusted=yes", "root@"+l.b.addr, "/usr/bin/python3 "+script)...)
			if !strings.Contains(out, "x11 done") {
				t.Fatalf("the X11 client did not finish: %s", out)
			}
		},
		want: "x11",
		check: func(t *testing.T, ev *event.Event) {
			evidence(t, ev, "x11_request_seen", "true")
			evidence(t, ev, "server_opened_channel", "true")
		},
	},
	{
		// X11 asked for but never used: the request alone does not make
		// an X11 session.
		name: "x11-requested-interactive",
		run: func(t *testing.T, l *lab) {
			out := l.runA(t, time.Minute, &typer{s: "echo typed-by-hand\nexit\n", delay: 150 * time.Millisecond},
				"ssh", l.sshArgs("-X", "-o", "ForwardX11Trusted=yes", "-tt", "root@"+l.b.addr)...)
			if !strings.Contains(out, "typed-by-hand") {
				t.Fatalf("remote shell did not echo the typed command: %s", out)
			}
		},
		want: "interactive",
		check: func(t *testing.T, ev *event.Event) {
			evidence(t, ev, "x11_request_seen", "true")
		},
	},
	{
		name: "nested",
		run: func(t *testing.T, l *lab) {
			l.daemon(t, l.a, "ssh", l.sshArgs("-N", "-L", "127.0.0.1:2222:"+l.b.addr+":22", "root@"+l.b.addr)...)
			l.waitPort(t, l.a, "127.0.0.1", 2222)
			out := l.runA(t, time.Minute, &typer{s: "echo typed-inside\nls /\nexit\n", delay: 150 * time.Millisecond},
				"ssh", l.sshArgs("-tt", "-p", "2222", "root@127.0.0.1")...)
			if !strings.Contains(out, "typed-inside") {
				t.Fatalf("inner shell did not echo: %s", out)
			}
		},
		want: "nested-ssh",
		check: func(t *testing.T, ev *event.Event) {
			// An inner chacha20-poly1305 keystroke (36 bytes) in an
			// outer CHANNEL_DATA under chacha20-poly1305: 76 bytes, 40
			// more than the outer session's own keystroke.
			evidence(t, ev, "nested_keystroke_size", "76")
			evidence(t, ev, "nested_size_excess", "40")
			evidence(t, ev, "inner_handshake_seen", "true")
		},
	},
	{
		// The inner session with another cipher: its 64-byte keystroke
		// inside the outer chacha20-poly1305 CHANNEL_DATA is 100 bytes.
		name: "nested-inner-aes-ctr",
		run: func(t *testing.T, l *lab) {
			l.daemon(t, l.a, "ssh", l.sshArgs("-N", "-L", "127.0.0.1:2222:"+l.b.addr+":22", "root@"+l.b.addr)...)
			l.waitPort(t, l.a, "127.0.0.1", 2222)
			out := l.runA(t, time.Minute, &typer{s: "echo typed-inside\nexit\n", delay: 200 * time.Millisecond},
				"ssh", l.sshArgs("-tt", "-c", "aes128-ctr", "-m", "hmac-sha2-256", "-p", "2222", "root@127.0.0.1")...)
			if !strings.Contains(out, "typed-inside") {
				t.Fatalf("inner shell did not echo: %s", out)
			}
		},
		want: "nested-ssh",
		check: func(t *testing.T, ev *event.Event) {
			evidence(t, ev, "nested_keystroke_size", "100")
		},
	},
	{
		name: "auth-failure",
		run: func(t *testing.T, l *lab) {
			// A key the server does not know: every publickey attempt
			// fails and the client gives up.
			stranger := filepath.Join(l.dir, "stranger")
			run(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", stranger)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			args := l.sshArgs("-o", "IdentitiesOnly=yes", "root@"+l.b.addr, "true")
			args[1] = stranger
			out, err := l.a.cmd(ctx, "ssh", args...).CombinedOutput()
			if err == nil || !strings.Contains(string(out), "Permission denied") {
				t.Fatalf("login with an unknown key: %v\n%s; want Permission denied", err, out)
			}
		},
		want:     "no-session",
		wantAuth: "failure",
	},
	{
		name: "port-forwarding",
		run: func(t *testing.T, l *lab) {
			page := filepath.Join(l.dir, "www", "page.html")
			if err := os.MkdirAll(filepath.Dir(page), 0o755); err != nil {
				t.Fatal(err)
			}
			randomFile(t, page, 2000)
			l.daemon(t, l.b, "/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", filepath.Dir(page), "7000")
			l.waitPort(t, l.b, "127.0.0.1", 7000)
			l.daemon(t, l.a, "ssh", l.sshArgs("-N", "-L", "127.0.0.1:8080:127.0.0.1:7000", "root@"+l.b.addr)...)
			l.waitPort(t, l.a, "127.0.0.1", 8080)
			for i := 0; i < 20; i++ {
				l.runA(t, 10*time.Second, nil, "curl", "-sS", "-o", "/dev/null", "http://127.0.0.1:8080/page.html")
				time.Sleep(100 * time.Millisecond)
			}
		},
		want: "port-forwarding",
	},
	{
		name: "socks-forwarding",
		run: func(t *testing.T, l *lab) {
			page := filepath.Join(l.dir, "www", "page.html")
			if err := os.MkdirAll(filepath.Dir(page), 0o755); err != nil {
				t.Fatal(err)
			}
			randomFile(t, page, 3000)
			l.daemon(t, l.b, "/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", filepath.Dir(page), "7000")
			l.waitPort(t, l.b, "127.0.0.1", 7000)
			l.daemon(t, l.a, "ssh", l.sshArgs("-N", "-D", "127.0.0.1:1080", "root@"+l.b.addr)...)
			l.waitPort(t, l.a, "127.0.0.1", 1080)
			for i := 0; i < 15; i++ {
				l.runA(t, 10*time.Second, nil, "curl", "-sS", "-o", "/dev/null", "--socks5-hostname", "127.0.0.1:1080", "http://127.0.0.1:7000/page.html")
				time.Sleep(150 * time.Millisecond)
			}
		},
		want: "port-forwarding",
	},
}

// fileProtocol checks the file_protocol of a transfer.
func fileProtocol(want string) func(t *testing.T, ev *event.Event) {
	return func(t *testing.T, ev *event.Event) {
		t.Helper()
		if got := fmt.Sprint(ev.Summary.Get("file_protocol")); got != want {
			t.Errorf("file_protocol %q; want %q", got, want)
		}
	}
}

// evidence checks one field of the verdict's evidence.
func evidence(t *testing.T, ev *event.Event, key, want string) {
	t.Helper()
	m, _ := ev.Summary.Get("evidence").(event.Fields)
	if got := fmt.Sprint(m.Get(key)); got != want {
		t.Errorf("evidence %s = %s; want %s", key, got, want)
	}
}

// TestSSHLive runs each scenario between a real OpenSSH client and server
// in two namespaces, captures the server's interface, runs the whole IRS
// pipeline over the capture, and checks the ssh-session verdict.
func TestSSHLive(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			l := newLab(t)
			l.startSSHD(t)
			// The server needs its own HOME for xauth: a private tmpfs
			// over /root is mounted by the sshd wrapper.
			stop := l.capture(t, sc.name)
			sc.run(t, l)
			pcap := stop()
			res := golden.Run(t, nil, parser.Options{}, pcap)
			if res.Err != nil {
				t.Fatalf("pipeline: %v", res.Err)
			}
			var sess []*event.Event
			for _, ev := range res.Events {
				if ev.Protocol == "ssh" && ev.Type == "ssh-session" {
					sess = append(sess, ev)
				}
			}
			if len(sess) != 1 {
				t.Fatalf("got %d ssh-session events; want 1 (events: %d)", len(sess), len(res.Events))
			}
			ev := sess[0]
			if got := fmt.Sprint(ev.Summary.Get("verdict")); got != sc.want {
				b, _ := json.MarshalIndent(ev.Summary.Get("evidence"), "", "  ")
				t.Errorf("verdict %q; want %q\nevidence: %s\nactivities: %v", got, sc.want, b, ev.Summary.Get("activities"))
			}
			wantAuth := sc.wantAuth
			if wantAuth == "" {
				wantAuth = "success"
			}
			if got := fmt.Sprint(ev.Summary.Get("auth")); got != wantAuth {
				t.Errorf("auth %q; want %s (%v)", got, wantAuth, ev.Summary.Get("auth_evidence"))
			}
			wantCipher := sc.cipher
			if wantCipher == "" {
				wantCipher = "chacha20-poly1305@openssh.com"
			}
			if got := fmt.Sprint(ev.Summary.Get("cipher_c2s")); got != wantCipher {
				t.Errorf("cipher_c2s %q; want %s", got, wantCipher)
			}
			if h, _ := ev.Summary.Get("hassh").(string); len(h) != 32 {
				t.Errorf("hassh %q; want an MD5 in hex", h)
			}
			// The main verdict is also one of the activities (a session
			// that never got past authentication has none).
			found := sc.want == "no-session"
			for _, e := range res.Events {
				if e.Type == "ssh-activity" && fmt.Sprint(e.Summary.Get("kind")) == sc.want {
					found = true
				}
			}
			if !found {
				t.Errorf("no ssh-activity of kind %s", sc.want)
			}
			for _, k := range sc.acts {
				found := false
				for _, e := range res.Events {
					found = found || e.Type == "ssh-activity" && fmt.Sprint(e.Summary.Get("kind")) == k
				}
				if !found {
					t.Errorf("no ssh-activity of kind %s; activities %v", k, ev.Summary.Get("activities"))
				}
			}
			if sc.check != nil {
				sc.check(t, ev)
			}
		})
	}
}
