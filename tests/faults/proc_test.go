//go:build faults

package faults

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// scenario is one test's world: a database, a data directory shared by its processes
// (blob storage), and the environment they start with.
type scenario struct {
	t       *testing.T
	dbURL   string
	dataDir string
	pool    *pgxpool.Pool
	env     map[string]string
	procs   []*proc
}

// newScenario creates t's database, migrates it with `packshot migrate`, and opens a
// pool on it for the test's own checks. extraEnv overrides the defaults.
func newScenario(t *testing.T, extraEnv map[string]string) *scenario {
	t.Helper()
	s := &scenario{t: t, dbURL: newDatabase(t), dataDir: t.TempDir()}
	s.env = map[string]string{
		"DATABASE_URL":                   s.dbURL,
		"AUTH_JWT_SECRET":                jwtSecret,
		"PACKSHOT_DATA_DIR":              s.dataDir,
		"PACKSHOT_LOG_LEVEL":             "info",
		"PACKSHOT_JOB_LEASE":             "15s",
		"PACKSHOT_POLL_INTERVAL":         "250ms",
		"PACKSHOT_SHUTDOWN_GRACE":        "15s",
		"PACKSHOT_RATE_LIMIT_PER_MINUTE": "0",
		"PACKSHOT_MAX_PACKS_IN_FLIGHT":   "0",
		// The scenario client (client_test.go) speaks plain JSON, not the default superjson.
		"PACKSHOT_TRPC_TRANSFORMER": "json",
		// The scenarios make many AI images; the spend limits are tested in api/spend_test.go.
		"PACKSHOT_MAX_AI_JOBS_IN_FLIGHT":      "0",
		"PACKSHOT_AI_DAILY_BUDGET_USD":        "0",
		"PACKSHOT_AI_GLOBAL_DAILY_BUDGET_USD": "0",
	}
	for k, v := range extraEnv {
		s.env[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, suite.bin, "migrate")
	cmd.Env = s.environ(nil)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("packshot migrate: %v\n%s", err, out)
	}
	var err error
	s.pool, err = pgxpool.New(context.Background(), s.dbURL)
	if err != nil {
		t.Fatalf("open pool: %v", err)
	}
	t.Cleanup(func() {
		for _, p := range s.procs {
			p.kill()
		}
		s.pool.Close()
		if t.Failed() {
			for _, p := range s.procs {
				p.dumpLog()
			}
		}
	})
	return s
}

// environ is the process environment: PATH and HOME from the test's, the scenario's
// variables, then extra.
func (s *scenario) environ(extra map[string]string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()}
	for k, v := range s.env {
		if _, ok := extra[k]; !ok {
			env = append(env, k+"="+v)
		}
	}
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	return env
}

// proc is one packshot process of a scenario.
type proc struct {
	t      *testing.T
	name   string
	args   []string
	env    []string
	addr   string // serve: host:port
	log    string // stdout and stderr
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // Wait's answer, once exited is closed
}

// freeAddr returns a free 127.0.0.1 port; a restarted serve reuses its address.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serve starts `packshot serve` on a free address and waits until it is ready.
func (s *scenario) serve(ctx context.Context, name string, extra map[string]string, args ...string) *proc {
	s.t.Helper()
	addr := freeAddr(s.t)
	p := &proc{t: s.t, name: name, addr: addr,
		args: append([]string{"serve", "-addr", addr}, args...), env: s.environ(extra)}
	s.procs = append(s.procs, p)
	p.start(ctx)
	return p
}

// worker starts `packshot worker` and waits until its dispatcher runs.
func (s *scenario) worker(ctx context.Context, name string, extra map[string]string) *proc {
	s.t.Helper()
	p := &proc{t: s.t, name: name, args: []string{"worker"}, env: s.environ(extra)}
	s.procs = append(s.procs, p)
	p.start(ctx)
	return p
}

// start runs the process and waits, within ctx, for the line that says it is ready.
func (p *proc) start(ctx context.Context) {
	p.t.Helper()
	if p.log == "" {
		p.log = filepath.Join(p.t.TempDir(), p.name+".log")
	}
	logf, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	fmt.Fprintf(logf, "==== start %s %s\n", p.name, strings.Join(p.args, " "))
	cmd := exec.Command(suite.bin, p.args...)
	cmd.Env = p.env
	cmd.Stderr = logf
	// If the test binary dies (a -timeout panic), its packshot processes die with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		p.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("start %s: %v", p.name, err)
	}
	p.cmd, p.exited = cmd, make(chan struct{})
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		var once sync.Once
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logf, line)
			if strings.HasPrefix(line, "packshot listening on") || strings.HasPrefix(line, "packshot worker") {
				once.Do(func() { close(ready) })
			}
		}
		_, _ = io.Copy(logf, stdout)
		p.err = cmd.Wait()
		fmt.Fprintf(logf, "==== exit %s: %v\n", p.name, p.err)
		logf.Close()
		close(p.exited)
	}()
	select {
	case <-ready:
	case <-p.exited:
		p.dumpLog()
		p.t.Fatalf("%s exited before it was ready: %v", p.name, p.err)
	case <-ctx.Done():
		p.dumpLog()
		p.t.Fatalf("%s not ready: %v", p.name, ctx.Err())
	}
}

// pid is the running process's id.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// running reports whether the process has not exited.
func (p *proc) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM and waits, within ctx, for a clean exit.
func (p *proc) stop(ctx context.Context) {
	p.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		if p.err != nil {
			p.t.Errorf("%s exited with %v after SIGTERM", p.name, p.err)
		}
	case <-ctx.Done():
		p.t.Fatalf("%s still running after SIGTERM: %v", p.name, ctx.Err())
	}
}

// restart stops the process with SIGTERM and starts it again with the same arguments.
func (p *proc) restart(ctx context.Context) {
	p.t.Helper()
	p.stop(ctx)
	p.start(ctx)
}

// kill sends SIGKILL (if it still runs) and waits for the exit.
func (p *proc) kill() {
	if p.cmd == nil || !p.running() {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// dumpLog logs the tail of the process's output.
func (p *proc) dumpLog() {
	b, _ := os.ReadFile(p.log)
	if len(b) > 20000 {
		b = b[len(b)-20000:]
	}
	p.t.Logf("---- %s log (tail) ----\n%s", p.name, b)
}

// baseURL is the serve process's HTTP base URL.
func (p *proc) baseURL() string { return "http://" + p.addr }

// memory returns the process's resident set size and its peak (VmRSS, VmHWM), in bytes.
func (p *proc) memory() (rss, peak int64) {
	p.t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.pid()) + "/status")
	if err != nil {
		p.t.Fatalf("read %s's memory: %v", p.name, err)
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		k, v, ok := strings.Cut(string(line), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) < 1 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			rss = n << 10
		case "VmHWM":
			peak = n << 10
		}
	}
	return rss, peak
}

// ready reports whether GET /readyz answers 200.
func (p *proc) ready(ctx context.Context) bool {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.baseURL()+"/readyz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// waitFor polls cond every 100 ms until it holds, failing t when ctx ends first.
func waitFor(ctx context.Context, t *testing.T, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		ok, err := cond(ctx)
		if ok && err == nil {
			return
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v (last error: %v)", what, ctx.Err(), lastErr)
		case <-tick.C:
		}
	}
}
