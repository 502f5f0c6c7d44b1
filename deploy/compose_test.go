package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/sdnli/sdnli/controller/policy"
	"github.com/sdnli/sdnli/internal/golden"
)

type compose struct {
	Services map[string]struct {
		Image       string    `yaml:"image"`
		Build       yaml.Node `yaml:"build"`
		Command     []string  `yaml:"command"`
		NetworkMode string    `yaml:"network_mode"`
		Ports       []string  `yaml:"ports"`
		Healthcheck struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
		DependsOn map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

var (
	helpOnce sync.Map // subcommand → help text
	binOnce  sync.Once
	bin      string
	binDir   string
	binErr   error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// help returns `sdnli SUB --help` of the binary built from this tree.
func help(t *testing.T, sub string) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sdnli-deploy-test-")
		if err != nil {
			binErr = err
			return
		}
		binDir = dir
		bin = filepath.Join(dir, "sdnli")
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/sdnli")
		cmd.Dir = golden.RepoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = err
			t.Logf("go build: %s", out)
		}
	})
	if binErr != nil {
		t.Fatalf("building sdnli: %v", binErr)
	}
	if h, ok := helpOnce.Load(sub); ok {
		return h.(string)
	}
	out, _ := exec.Command(bin, sub, "--help").CombinedOutput()
	helpOnce.Store(sub, string(out))
	return string(out)
}

func loadCompose(t *testing.T) compose {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(golden.RepoRoot(t), "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("docker-compose.yml does not parse: %v", err)
	}
	return c
}

// TestComposeMatchesBinary: every sdnli service runs a subcommand that
// exists with flags that exist, and every other service is one the file
// means to have.
func TestComposeMatchesBinary(t *testing.T) {
	c := loadCompose(t)
	want := map[string]bool{"mysql": true, "migrate": true, "controller": true, "irs": true, "analyzer": true}
	for name := range want {
		if _, ok := c.Services[name]; !ok {
			t.Errorf("service %q missing", name)
		}
	}
	for name, s := range c.Services {
		if !want[name] {
			t.Errorf("unexpected service %q", name)
		}
		if name == "mysql" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			if !strings.HasPrefix(s.Image, "sdnli") {
				t.Fatalf("image %q, want the sdnli image", s.Image)
			}
			if len(s.Command) == 0 {
				t.Fatal("no command")
			}
			sub := s.Command[0]
			h := help(t, sub)
			if !strings.Contains(h, "Usage: sdnli "+sub) {
				t.Fatalf("sdnli %s --help does not describe the subcommand:\n%s", sub, h)
			}
			for _, arg := range s.Command[1:] {
				if !strings.HasPrefix(arg, "--") {
					continue
				}
				flag := strings.SplitN(strings.TrimPrefix(arg, "--"), "=", 2)[0]
				if !regexp.MustCompile(`(?m)^\s+-` + regexp.QuoteMeta(flag) + `\b`).MatchString(h) {
					t.Errorf("sdnli %s has no flag --%s", sub, flag)
				}
			}
			if name != "migrate" && len(s.Healthcheck.Test) == 0 {
				t.Error("no health check")
			}
			for dep := range s.DependsOn {
				if _, ok := c.Services[dep]; !ok {
					t.Errorf("depends on unknown service %q", dep)
				}
			}
		})
	}
}

// TestComposeHealthchecksHitTheirPorts: each health check asks the
// address its service listens on.
func TestComposeHealthchecksHitTheirPorts(t *testing.T) {
	c := loadCompose(t)
	portFlag := map[string]string{"controller": "--api", "irs": "--api", "analyzer": "--listen"}
	for name, flag := range portFlag {
		s := c.Services[name]
		var addr string
		for i, a := range s.Command {
			if a == flag && i+1 < len(s.Command) {
				addr = s.Command[i+1]
			}
		}
		port := addr[strings.LastIndex(addr, ":")+1:]
		if port == "" || !strings.Contains(strings.Join(s.Healthcheck.Test, " "), ":"+port+"/") {
			t.Errorf("%s: listens on %q but its health check is %v", name, addr, s.Healthcheck.Test)
		}
	}
}

// TestImageConfig: the controller configuration baked into the image is
// one the controller accepts.
func TestImageConfig(t *testing.T) {
	if _, err := policy.LoadConfig(filepath.Join(golden.RepoRoot(t), "deploy", "controller.json")); err != nil {
		t.Fatalf("deploy/controller.json: %v", err)
	}
	df, err := os.ReadFile(filepath.Join(golden.RepoRoot(t), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"./cmd/sdnli", "COPY deploy/controller.json /etc/sdnli/controller.json", `ENTRYPOINT ["/usr/local/bin/sdnli"]`} {
		if !strings.Contains(string(df), want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}
