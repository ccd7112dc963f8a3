package pgcluster

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// watchdogScript waits on its standard input, a pipe whose only writer is this process.
// A line means the cluster was stopped in order: nothing to do. End of file without one
// means this process died without stopping it (a panic, kill -9, the OOM killer): stop the
// cluster, so a crashed packshot never leaves an orphaned postmaster behind.
//
// pg_ctl daemonises the postmaster (it is not our child, and Pdeathsig would not reach
// it); a pipe is what the kernel closes for us however we die.
const watchdogScript = `read -r _ && exit 0
exec "$1" stop -D "$2" -m fast -w -t 60`

// watchdog is the helper process that stops the cluster if this process dies.
type watchdog struct {
	cmd *exec.Cmd
	w   *os.File
}

// startWatchdog starts the watchdog of a running cluster. Without /bin/sh (it is never
// missing where PostgreSQL's binaries are) the cluster runs unwatched, with a warning.
func (c *Cluster) startWatchdog() *watchdog {
	r, w, err := os.Pipe()
	if err != nil {
		c.opts.Logger.Warn("embedded postgres: no watchdog; a crash would leave the cluster running", "err", err)
		return nil
	}
	defer r.Close()
	cmd := exec.Command("/bin/sh", "-c", watchdogScript, "packshot-pg-watchdog",
		filepath.Join(c.opts.BinDir, "pg_ctl"), c.dataDir)
	cmd.Env = []string{"PATH=" + c.opts.BinDir + ":/usr/bin:/bin", "LC_ALL=C", "TZ=UTC"}
	cmd.Dir = filepath.Dir(c.dataDir)
	cmd.Stdin = r
	// Its own process group, like the server: a Ctrl-C to packshot's group must not take
	// the watchdog away before packshot has stopped the cluster in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: c.cred}
	if err := cmd.Start(); err != nil {
		w.Close()
		c.opts.Logger.Warn("embedded postgres: no watchdog; a crash would leave the cluster running", "err", err)
		return nil
	}
	return &watchdog{cmd: cmd, w: w}
}

// dismiss tells the watchdog the cluster was stopped in order, and waits for it to go.
func (d *watchdog) dismiss() {
	if d == nil {
		return
	}
	_, _ = d.w.Write([]byte("stopped\n"))
	_ = d.w.Close()
	_ = d.cmd.Wait()
}
