package pgcluster

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ownerEnv makes the test binary the owner of a cluster (see TestMain): it starts one in
// the directory the variable names, says so, and waits to be killed.
const ownerEnv = "PGCLUSTER_TEST_OWNER_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(ownerEnv); dir != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if _, err := Start(ctx, Options{Dir: dir, Ephemeral: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}); err != nil {
			os.Stdout.WriteString("error " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString("started\n")
		select {} // until killed
	}
	os.Exit(m.Run())
}

// TestOwnerKilledStopsCluster kills the process that started a cluster with SIGKILL, as
// a crash would: the postmaster must not be left running.
func TestOwnerKilledStopsCluster(t *testing.T) {
	if _, err := FindBinDir(os.Getenv); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	owner := exec.Command(os.Args[0], "-test.run=^$")
	owner.Env = append(os.Environ(), ownerEnv+"="+dir)
	out, err := owner.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := owner.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "started\n" {
		_ = owner.Process.Kill()
		_ = owner.Wait()
		t.Fatalf("the owner did not start its cluster: %q", line)
	}
	b, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(first))
	t.Cleanup(func() {
		if running(pid) {
			_ = syscall.Kill(pid, syscall.SIGQUIT)
		}
	})
	if !running(pid) {
		t.Fatalf("postmaster %d not running", pid)
	}
	_ = owner.Process.Kill()
	_ = owner.Wait()
	// Poll with a bounded deadline: the watchdog's pg_ctl stop takes a moment.
	deadline := time.Now().Add(60 * time.Second)
	for running(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("postmaster %d still running a minute after its owner was killed", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// running reports whether pid is a live postgres process (not a zombie).
func running(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, os.ErrNotExist) {
		return false
	} else if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || !strings.Contains(s[:i], "postgres") {
		return false
	}
	f := strings.Fields(s[i+1:])
	return len(f) > 0 && f[0] != "Z"
}
