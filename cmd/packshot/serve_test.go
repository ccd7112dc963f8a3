package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startServe runs the real program's serve command with env and returns its base URL and
// a stop function that cancels it (as SIGINT does) and waits for it to return.
func startServe(t *testing.T, env map[string]string, args ...string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"packshot", "serve"}, args...), mapEnv(env), pw, io.Discard)
		pw.CloseWithError(io.EOF)
		done <- err
	}()
	sc := bufio.NewScanner(pr)
	base := ""
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "packshot listening on "); ok {
			base = u
			break
		}
	}
	go io.Copy(io.Discard, pr) //nolint:errcheck // drain the rest of stdout
	if base == "" {
		cancel()
		t.Fatalf("serve did not start: %v", <-done)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v", err)
		}
	}
	t.Cleanup(stop)
	return base, stop
}

func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// waitReady polls /readyz until it answers 200: the instance is ready once its realtime
// listener has connected, a moment after the port opens. It fails the test after 30 s.
func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for code := getStatus(t, base+"/readyz"); code != http.StatusOK; code = getStatus(t, base+"/readyz") {
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still %d after 30 s", code)
		}
		<-tick.C
	}
}

func getStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestServeEmbeddedDatabase is the newcomer's first run: nothing configured, so packshot
// starts its own PostgreSQL, serves, stops it on interrupt, and reuses it next time, also
// after a crash left a stale postmaster.pid behind.
func TestServeEmbeddedDatabase(t *testing.T) {
	dataDir := t.TempDir()
	env := map[string]string{"PACKSHOT_ADDR": "127.0.0.1:0", "PACKSHOT_DATA_DIR": dataDir, "PACKSHOT_LOG_LEVEL": "warn"}
	pidFile := filepath.Join(dataDir, "pg", "data", "postmaster.pid")

	base, stop := startServe(t, env)
	waitReady(t, base)
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		if code := getStatus(t, base+path); code != http.StatusOK {
			t.Fatalf("GET %s = %d; want 200", path, code)
		}
	}
	if _, err := os.Stat(pidFile); err != nil {
		t.Fatalf("embedded postgres not running: %v", err)
	}
	stop()
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Fatalf("postmaster.pid still there after stop (err %v): postgres left running", err)
	}
	versionFile := filepath.Join(dataDir, "pg", "data", "PG_VERSION")
	before, err := os.Stat(versionFile)
	if err != nil {
		t.Fatal(err)
	}

	// A crash leaves a postmaster.pid naming a process that no longer exists.
	if err := os.WriteFile(pidFile, []byte("999999\n"+filepath.Join(dataDir, "pg", "data")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base, stop = startServe(t, env)
	waitReady(t, base)
	stop()
	after, err := os.Stat(versionFile)
	if err != nil || !after.ModTime().Equal(before.ModTime()) {
		t.Fatalf("second start re-initialised the cluster instead of reusing it (%v)", err)
	}
}

// TestServeRefusesDevModeOffLoopback: dev mode gives anyone who asks a service_role
// token, so `serve` in dev mode on an address other machines reach stops before it
// listens, saying why and what to do. Nothing is listened on or sent.
func TestServeRefusesDevModeOffLoopback(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env  map[string]string
		args []string
	}{
		{map[string]string{"PACKSHOT_ADDR": "0.0.0.0:0"}, nil},
		{map[string]string{"PACKSHOT_ADDR": ":0"}, nil},
		{nil, []string{"-addr", "[::]:0"}},
	} {
		env := map[string]string{"PACKSHOT_DATA_DIR": t.TempDir(), "PACKSHOT_LOG_LEVEL": "warn"}
		for k, v := range tc.env {
			env[k] = v
		}
		// Should serve start anyway, it is stopped as soon as it says it listens.
		ctx, cancel := context.WithCancel(context.Background())
		stdout := &cancelOn{word: "listening", cancel: cancel}
		err := run(ctx, append([]string{"packshot", "serve"}, tc.args...), mapEnv(env), stdout, io.Discard)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "dev mode") || !strings.Contains(err.Error(), "loopback") || !strings.Contains(err.Error(), "AUTH_JWT_SECRET") {
			t.Errorf("serve %v %v: %v; want the dev-mode loopback refusal", tc.env, tc.args, err)
		}
		if stdout.seen {
			t.Errorf("serve %v %v listened: %s", tc.env, tc.args, stdout.buf.String())
		}
	}
}

// cancelOn is a stdout that calls cancel once word has been written.
type cancelOn struct {
	word   string
	cancel func()
	buf    strings.Builder
	seen   bool
}

func (w *cancelOn) Write(p []byte) (int, error) {
	w.buf.Write(p)
	if !w.seen && strings.Contains(w.buf.String(), w.word) {
		w.seen = true
		w.cancel()
	}
	return len(p), nil
}
