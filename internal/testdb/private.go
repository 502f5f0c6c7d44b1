package testdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Instance is a private mariadbd owned by one test: its own data
// directory, unix socket and TCP port on 127.0.0.1. Stop and Start it to
// simulate a database outage; it is killed and removed in t.Cleanup.
type Instance struct {
	t      testing.TB
	dir    string
	port   int
	binary string

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has exited
	waitErr error
}

const (
	startTimeout = 90 * time.Second
	stopTimeout  = 60 * time.Second
)

// Private installs and starts a private MariaDB server. It fails the test
// if MariaDB is not installed or does not come up.
func Private(t testing.TB) *Instance {
	t.Helper()
	server := lookBinary("mariadbd", "/usr/sbin/mariadbd", "mysqld", "/usr/sbin/mysqld")
	install := lookBinary("mariadb-install-db", "/usr/bin/mariadb-install-db", "mysql_install_db", "/usr/bin/mysql_install_db")
	if server == "" || install == "" {
		t.Fatalf("testdb: MariaDB server binaries not found (want mariadbd and mariadb-install-db); install them with: apt-get install -y mariadb-server")
	}
	// A short path: unix socket paths are limited to 108 bytes, which a
	// t.TempDir under a long test name can exceed.
	dir, err := os.MkdirTemp("", "sdnli-mdb-")
	if err != nil {
		t.Fatalf("testdb: temp dir: %v", err)
	}
	inst := &Instance{t: t, dir: dir, binary: server}
	t.Cleanup(func() {
		inst.kill()
		_ = os.RemoveAll(dir)
	})

	args := []string{
		"--no-defaults",
		"--datadir=" + inst.dataDir(),
		"--auth-root-authentication-method=normal", // root without password
		"--skip-test-db",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	out, err := exec.Command(install, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("testdb: %s failed: %v\n%s", install, err, tail(out, 2000))
	}

	port, err := freePort()
	if err != nil {
		t.Fatalf("testdb: find a free TCP port: %v", err)
	}
	inst.port = port
	if err := inst.start(); err != nil {
		t.Fatalf("testdb: %v", err)
	}
	return inst
}

func lookBinary(candidates ...string) string {
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	return ""
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (i *Instance) dataDir() string { return filepath.Join(i.dir, "data") }

// Socket returns the path of the instance's unix socket.
func (i *Instance) Socket() string { return filepath.Join(i.dir, "mysqld.sock") }

// Port returns the instance's TCP port on 127.0.0.1.
func (i *Instance) Port() int { return i.port }

// DSN returns a TCP DSN (root, no password, no database) for the instance.
// TCP rather than the socket so that a stopped server shows up as a
// refused connection, as a remote database would.
func (i *Instance) DSN() string {
	cfg := mysql.NewConfig()
	cfg.User = "root"
	cfg.Net = "tcp"
	cfg.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(i.port))
	return cfg.FormatDSN()
}

// Database creates a fresh, migrated database on the instance and returns
// a handle and its DSN. The database goes away with the instance.
func (i *Instance) Database(t testing.TB) (*sql.DB, string) {
	t.Helper()
	return newDatabase(t, i.DSN(), true, false)
}

// Running reports whether the server process is alive.
func (i *Instance) Running() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.runningLocked()
}

func (i *Instance) runningLocked() bool {
	if i.cmd == nil {
		return false
	}
	select {
	case <-i.exited:
		return false
	default:
		return true
	}
}

// Start starts the server again after Stop or Kill, with the same data,
// socket and port, and waits until it accepts connections.
func (i *Instance) Start() {
	i.t.Helper()
	if err := i.start(); err != nil {
		i.t.Fatalf("testdb: %v", err)
	}
}

func (i *Instance) start() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.runningLocked() {
		return errors.New("private MariaDB: Start while already running")
	}
	args := []string{
		"--no-defaults",
		"--datadir=" + i.dataDir(),
		"--socket=" + i.Socket(),
		"--port=" + strconv.Itoa(i.port),
		"--bind-address=127.0.0.1",
		"--pid-file=" + filepath.Join(i.dir, "mysqld.pid"),
		"--log-error=" + filepath.Join(i.dir, "error.log"),
		"--tmpdir=" + i.dir,
		"--skip-name-resolve",
		"--skip-log-bin",
		"--character-set-server=utf8mb4",
		"--collation-server=utf8mb4_unicode_ci",
		"--innodb-buffer-pool-size=64M",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	cmd := exec.Command(i.binary, args...)
	// Own process group: a Ctrl-C in the terminal reaches the test, which
	// then stops the server itself.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("private MariaDB: start %s: %w", i.binary, err)
	}
	exited := make(chan struct{})
	i.cmd, i.exited = cmd, exited
	go func() {
		err := cmd.Wait()
		i.mu.Lock()
		i.waitErr = err
		i.mu.Unlock()
		close(exited)
	}()

	// Wait for the socket to accept a login.
	cfg := mysql.NewConfig()
	cfg.User = "root"
	cfg.Net = "unix"
	cfg.Addr = i.Socket()
	cfg.Timeout = 2 * time.Second
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return fmt.Errorf("private MariaDB: connector: %w", err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("private MariaDB exited during start-up (%v); error log:\n%s", i.waitErr, i.errorLog())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("private MariaDB not ready after %v: %v; error log:\n%s", startTimeout, err, i.errorLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop shuts the server down cleanly (SIGTERM) and waits for it to exit.
func (i *Instance) Stop() {
	i.t.Helper()
	if err := i.signal(syscall.SIGTERM, stopTimeout); err != nil {
		i.t.Fatalf("testdb: %v", err)
	}
}

// Kill kills the server (SIGKILL), as a crash or power cut would, and
// waits for it to exit. InnoDB recovers committed data on Start.
func (i *Instance) Kill() {
	i.t.Helper()
	if err := i.signal(syscall.SIGKILL, stopTimeout); err != nil {
		i.t.Fatalf("testdb: %v", err)
	}
}

func (i *Instance) signal(sig syscall.Signal, timeout time.Duration) error {
	i.mu.Lock()
	cmd, exited := i.cmd, i.exited
	i.mu.Unlock()
	if cmd == nil {
		return errors.New("private MariaDB: not started")
	}
	select {
	case <-exited:
		return nil
	default:
	}
	if err := cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("private MariaDB: signal %v: %w", sig, err)
	}
	select {
	case <-exited:
		return nil
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("private MariaDB: did not exit within %v of %v; killed", timeout, sig)
	}
}

func (i *Instance) kill() {
	i.mu.Lock()
	cmd, exited := i.cmd, i.exited
	i.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-exited:
	default:
		_ = cmd.Process.Kill()
		<-exited
	}
}

func (i *Instance) errorLog() string {
	b, _ := os.ReadFile(filepath.Join(i.dir, "error.log"))
	return tail(b, 4000)
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
