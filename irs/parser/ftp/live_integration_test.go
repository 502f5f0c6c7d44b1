//go:build integration

package ftp

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sdnli/sdnli/internal/golden"
	"github.com/sdnli/sdnli/internal/netlab"
	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// testServer is a small FTP server: enough of RFC 959 and 2428 for curl
// in passive (EPSV, PASV) and active (EPRT, PORT) mode.
type testServer struct {
	t        *testing.T
	ln       net.Listener
	dataBase int // data ports used: dataBase .. dataBase+49
	mu       sync.Mutex
	files    map[string][]byte
	nextData int
}

func newTestServer(t *testing.T, files map[string][]byte) *testServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{t: t, ln: ln, files: files}
	// a block of 50 free ports for passive data connections
	for base := 31000 + os.Getpid()%2000*10; ; base += 50 {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base))
		if err == nil {
			l.Close()
			s.dataBase = base
			break
		}
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *testServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *testServer) listenData() (net.Listener, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < 50; i++ {
		p := s.dataBase + (s.nextData+i)%50
		if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p)); err == nil {
			s.nextData = (s.nextData + i + 1) % 50
			return l, nil
		}
	}
	return nil, errors.New("no free data port")
}

func (s *testServer) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	reply := func(format string, a ...any) { fmt.Fprintf(c, format+"\r\n", a...) }
	reply("220 sdnli test FTP server ready")
	var user string
	var pasv net.Listener
	var active string
	open := func() (net.Conn, error) {
		if pasv != nil {
			l := pasv
			pasv = nil
			defer l.Close()
			l.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
			return l.Accept()
		}
		if active != "" {
			a := active
			active = ""
			return net.DialTimeout("tcp", a, 5*time.Second)
		}
		return nil, errors.New("no data connection")
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch strings.ToUpper(verb) {
		case "USER":
			user = arg
			reply("331 Please specify the password.")
		case "PASS":
			if user == "alice" && arg == "secret" {
				reply("230 Login successful.")
			} else {
				reply("530 Login incorrect.")
			}
		case "PWD":
			reply(`257 "/" is the current directory`)
		case "CWD":
			reply("250 Directory successfully changed.")
		case "TYPE":
			reply("200 Switching to Binary mode.")
		case "SIZE":
			s.mu.Lock()
			f, ok := s.files[arg]
			s.mu.Unlock()
			if ok {
				reply("213 %d", len(f))
			} else {
				reply("550 Could not get file size.")
			}
		case "EPSV", "PASV":
			l, err := s.listenData()
			if err != nil {
				reply("425 %v", err)
				continue
			}
			pasv = l
			p := l.Addr().(*net.TCPAddr).Port
			if verb == "EPSV" {
				reply("229 Entering Extended Passive Mode (|||%d|)", p)
			} else {
				reply("227 Entering Passive Mode (127,0,0,1,%d,%d).", p>>8, p&0xff)
			}
		case "PORT":
			n := strings.Split(arg, ",")
			if len(n) != 6 {
				reply("501 Illegal PORT command.")
				continue
			}
			hi, _ := strconv.Atoi(n[4])
			lo, _ := strconv.Atoi(n[5])
			active = fmt.Sprintf("%s:%d", strings.Join(n[:4], "."), hi<<8|lo)
			reply("200 PORT command successful.")
		case "EPRT":
			f := strings.Split(arg, arg[:1])
			if len(f) != 5 {
				reply("501 Illegal EPRT command.")
				continue
			}
			active = net.JoinHostPort(f[2], f[3])
			reply("200 EPRT command successful.")
		case "RETR":
			s.mu.Lock()
			f, ok := s.files[strings.TrimPrefix(arg, "/")]
			s.mu.Unlock()
			if !ok {
				reply("550 Failed to open file.")
				continue
			}
			reply("150 Opening BINARY mode data connection for %s (%d bytes).", arg, len(f))
			d, err := open()
			if err != nil {
				reply("425 %v", err)
				continue
			}
			d.Write(f)
			d.Close()
			reply("226 Transfer complete.")
		case "STOR":
			reply("150 Ok to send data.")
			d, err := open()
			if err != nil {
				reply("425 %v", err)
				continue
			}
			b, _ := io.ReadAll(d)
			d.Close()
			s.mu.Lock()
			s.files[arg] = b
			s.mu.Unlock()
			reply("226 Transfer complete.")
		case "LIST", "NLST":
			reply("150 Here comes the directory listing.")
			d, err := open()
			if err != nil {
				reply("425 %v", err)
				continue
			}
			s.mu.Lock()
			for name, f := range s.files {
				fmt.Fprintf(d, "-rw-r--r--    1 0        0        %8d Jan 01 00:00 %s\r\n", len(f), name)
			}
			s.mu.Unlock()
			d.Close()
			reply("226 Directory send OK.")
		case "QUIT":
			reply("221 Goodbye.")
			return
		default:
			reply("502 Command not implemented.")
		}
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestLiveFTP drives curl against a small FTP server on loopback in every
// data connection mode, captures the traffic with tcpdump and feeds it
// through the whole IRS pipeline: every file must come back byte for byte,
// attributed to its control session.
func TestLiveFTP(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatalf("integration: curl not installed: %v", err)
	}
	files := map[string][]byte{
		"epsv.bin":   []byte(strings.Repeat("EPSV data \x00\x01\x02\n", 5000)),
		"pasv.txt":   []byte(strings.Repeat("PASV text line\n", 300)),
		"eprt.bin":   []byte(strings.Repeat("EPRT \xff\xfe", 700)),
		"port.txt":   []byte("a small file fetched in active mode\n"),
		"unused.dat": []byte("never fetched"),
	}
	srv := newTestServer(t, files)
	defer srv.ln.Close()
	upload := []byte(strings.Repeat("uploaded by curl -T\n", 800))
	upPath := filepath.Join(t.TempDir(), "report.csv")
	if err := os.WriteFile(upPath, upload, 0o644); err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("ftp://127.0.0.1:%d/", srv.port())
	activeBase := srv.dataBase + 50
	curlRun := func(args ...string) {
		args = append([]string{"-s", "-S", "--max-time", "20", "-o", "/dev/null"}, args...)
		out, err := exec.Command(curl, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	filter := fmt.Sprintf("tcp and (port %d or portrange %d-%d)", srv.port(), srv.dataBase, activeBase+49)
	capFile := netlab.Capture(t, "lo", filter, func() {
		curlRun("-u", "alice:secret", base+"epsv.bin")
		curlRun("--disable-epsv", "-u", "alice:secret", base+"pasv.txt")
		curlRun("-P", fmt.Sprintf("127.0.0.1:%d-%d", activeBase, activeBase+49), "-u", "alice:secret", base+"eprt.bin")
		curlRun("-P", fmt.Sprintf("127.0.0.1:%d-%d", activeBase, activeBase+49), "--disable-eprt", "-u", "alice:secret", base+"port.txt")
		curlRun("-T", upPath, "-u", "alice:secret", base)
		curlRun("-u", "alice:secret", base)
		out, _ := exec.Command(curl, "-s", "--max-time", "20", "-u", "mallory:guess", base+"epsv.bin").CombinedOutput()
		t.Logf("refused login: %s", out)
	})

	reg := parser.NewRegistry()
	reg.Add(NewDetector())
	opts := parser.DefaultOptions()
	opts.RecordPasswords = true
	res := golden.Run(t, reg, opts, capFile)
	if res.Err != nil {
		t.Fatalf("engine: %v", res.Err)
	}
	got := map[string]*event.Event{}
	for _, ev := range transfers(res.Events) {
		got[ev.Type+" "+ev.Summary.Get("filename").(string)] = ev
	}
	want := []struct {
		key, mode string
		data      []byte
	}{
		{"file-download epsv.bin", "EPSV", files["epsv.bin"]},
		{"file-download pasv.txt", "PASV", files["pasv.txt"]},
		{"file-download eprt.bin", "EPRT", files["eprt.bin"]},
		{"file-download port.txt", "PORT", files["port.txt"]},
		{"file-upload report.csv", "", upload},
	}
	for _, w := range want {
		ev := got[w.key]
		if ev == nil {
			t.Errorf("no %s event; have %v", w.key, keys(got))
			continue
		}
		if w.mode != "" && ev.Summary.Get("mode") != w.mode {
			t.Errorf("%s: mode %v, want %s", w.key, ev.Summary.Get("mode"), w.mode)
		}
		if len(ev.Artifacts) != 1 || ev.Artifacts[0].SHA256 != sha(w.data) {
			t.Errorf("%s: artifact %+v, want SHA-256 %s", w.key, ev.Artifacts, sha(w.data))
		}
		checkSummary(t, ev, map[string]any{"user": "alice", "reply_code": 226, "size": len(w.data)})
		if ev.Server.Port() != uint16(srv.port()) {
			t.Errorf("%s: server %v, want the control connection's", w.key, ev.Server)
		}
		if len(ev.Anomalies) > 0 {
			t.Errorf("%s: anomalies %v", w.key, ev.Anomalies)
		}
	}
	if got["listing listing.txt"] == nil {
		t.Errorf("no listing event; have %v", keys(got))
	}
	if n := len(byType(res.Events, TypeLogon)); n != 6 {
		t.Errorf("got %d logon events, want 6", n)
	}
	fail := byType(res.Events, TypeLogonFailure)
	if len(fail) != 1 || fail[0].Summary.Get("user") != "mallory" || fail[0].Summary.Get("password") != "guess" {
		t.Errorf("logon failures: %v", fail)
	}
	if n := len(byType(res.Events, TypeSession)); n != 7 {
		t.Errorf("got %d ftp-session events, want 7", n)
	}
}

func keys(m map[string]*event.Event) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
