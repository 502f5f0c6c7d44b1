package netlab

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Capture records interface iface of the root namespace with tcpdump
// (filtered by the BPF expression filter) while traffic runs, and returns
// the capture file. It waits until tcpdump listens before it starts the
// traffic and until tcpdump has written everything before it returns.
func Capture(t testing.TB, iface, filter string, traffic func()) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("netlab: capturing needs root")
	}
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		t.Fatalf("netlab: tcpdump not installed: %v", err)
	}
	path := filepath.Join(t.TempDir(), iface+".pcap")
	cmd := exec.Command(tcpdump, "-i", iface, "-n", "-s", "0", "-B", "65536", "-U", "--immediate-mode", "-w", path, filter)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("netlab: starting tcpdump: %v", err)
	}
	ready := make(chan error, 1)
	done := make(chan []string)
	go func() {
		var lines []string
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if strings.Contains(sc.Text(), "listening on") {
				ready <- nil
			}
		}
		ready <- errors.New("tcpdump exited before listening")
		done <- lines
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("netlab: %v: %s", err, strings.Join(<-done, "; "))
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("netlab: tcpdump did not start listening within 10 s")
	}
	traffic()
	time.Sleep(300 * time.Millisecond)
	_ = cmd.Process.Signal(os.Interrupt)
	lines := <-done
	_ = cmd.Wait()
	t.Logf("tcpdump: %s", strings.Join(lines, "; "))
	return path
}
