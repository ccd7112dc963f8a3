// Package pgcluster runs a private PostgreSQL cluster from the machine's own PostgreSQL
// binaries. It is what lets packshot start with nothing configured: with no DATABASE_URL the
// server creates (or reuses) a cluster under its data directory, listening only on a Unix
// socket inside that directory, and stops it on exit. The test helper internal/pgtest uses the
// same code for its throwaway clusters.
//
// PostgreSQL refuses to run as root. When the process is root, every PostgreSQL program is
// run as the "postgres" system user and the cluster's directory is owned by that user.
package pgcluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Options configures Start. The zero value is usable apart from Dir.
type Options struct {
	// Dir holds everything of the cluster: data/ (PGDATA), run/ (the socket) and
	// postgres.log. It is created when missing. Required.
	Dir string
	// Database is created when missing. Defaults to "packshot".
	Database string
	// BinDir is where initdb, pg_ctl and postgres live. Defaults to FindBinDir's answer.
	BinDir string
	// Ephemeral trades durability for speed (fsync, synchronous_commit and
	// full_page_writes off). For throwaway test clusters only. Defaults to false.
	Ephemeral bool
	// Logger receives progress messages. Defaults to slog.Default().
	Logger *slog.Logger
	// Getenv reads PATH when looking for binaries. Defaults to os.Getenv.
	Getenv func(string) string
}

// Cluster is a running private PostgreSQL cluster.
type Cluster struct {
	opts      Options
	dataDir   string
	socketDir string
	logFile   string
	lock      *os.File
	cred      *syscall.Credential
	watchdog  *watchdog
}

// ErrNoBinaries is returned (wrapped, with advice) when no PostgreSQL binaries are found.
var ErrNoBinaries = errors.New("no PostgreSQL server binaries found")

// port is only part of the socket file's name (.s.PGSQL.5432): the cluster listens on no
// TCP port, so it cannot collide with another server.
const port = 5432

// Start creates the cluster on first use, starts it, and creates the database. A second
// Start on the same Dir reuses the data. A postmaster.pid left by a crash is cleaned up; a
// postmaster still running from an earlier crashed packshot is stopped first. Only one
// process may own a Dir at a time.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Dir == "" {
		return nil, errors.New("pgcluster: Dir is required")
	}
	if opts.Database == "" {
		opts.Database = "packshot"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.BinDir == "" {
		bin, err := FindBinDir(opts.Getenv)
		if err != nil {
			return nil, err
		}
		opts.BinDir = bin
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("resolve cluster dir: %w", err)
	}
	c := &Cluster{
		opts:    opts,
		dataDir: filepath.Join(dir, "data"),
		logFile: filepath.Join(dir, "postgres.log"),
	}
	if c.cred, err = runAsCredential(); err != nil {
		return nil, err
	}
	if err := c.prepareDir(dir); err != nil {
		return nil, err
	}
	if err := c.acquireLock(dir); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			c.releaseLock()
		}
	}()
	if err := c.initIfNeeded(ctx); err != nil {
		return nil, err
	}
	if err := c.clearStalePostmaster(ctx); err != nil {
		return nil, err
	}
	if err := c.pgctl(ctx, "start", "-w", "-t", "60", "-l", c.logFile); err != nil {
		return nil, fmt.Errorf("start postgres (log: %s): %w%s", c.logFile, err, c.logTail())
	}
	c.watchdog = c.startWatchdog()
	if err := c.createDatabase(ctx); err != nil {
		_ = c.Stop(context.Background())
		return nil, err
	}
	ok = true
	opts.Logger.Info("embedded postgres started", "dir", dir, "bin", opts.BinDir)
	return c, nil
}

// URL returns a connection URL for the cluster's database over its Unix socket.
func (c *Cluster) URL() string { return c.URLFor(c.opts.Database) }

// URLFor returns a connection URL for the named database over the cluster's Unix socket.
func (c *Cluster) URLFor(database string) string {
	q := url.Values{}
	q.Set("host", c.socketDir)
	q.Set("port", strconv.Itoa(port))
	q.Set("user", "postgres")
	q.Set("sslmode", "disable")
	return "postgres:///" + url.PathEscape(database) + "?" + q.Encode()
}

// Stop shuts the cluster down (fast mode: connections are closed, nothing is lost) and
// releases the directory lock. It is safe to call more than once.
func (c *Cluster) Stop(ctx context.Context) error {
	if c.lock == nil {
		return nil
	}
	defer c.releaseLock()
	if err := c.pgctl(ctx, "stop", "-w", "-m", "fast", "-t", "60"); err != nil {
		return fmt.Errorf("stop postgres: %w", err)
	}
	c.watchdog.dismiss()
	c.watchdog = nil
	c.opts.Logger.Info("embedded postgres stopped")
	return nil
}

// Restart stops and starts the server on the same data, as a database failover would look
// to clients. Fault tests use it.
func (c *Cluster) Restart(ctx context.Context) error {
	if err := c.pgctl(ctx, "restart", "-w", "-m", "fast", "-t", "60", "-l", c.logFile); err != nil {
		return fmt.Errorf("restart postgres: %w%s", err, c.logTail())
	}
	return nil
}

// FindBinDir finds PostgreSQL's server programs: the directory of pg_ctl on PATH (when
// initdb and postgres sit beside it), else the newest /usr/lib/postgresql/*/bin.
func FindBinDir(getenv func(string) string) (string, error) {
	for _, d := range filepath.SplitList(getenv("PATH")) {
		if d == "" {
			continue
		}
		p, err := filepath.EvalSymlinks(filepath.Join(d, "pg_ctl"))
		if err != nil {
			continue
		}
		if dir := filepath.Dir(p); hasServerBinaries(dir) {
			return dir, nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	best, bestVer := "", -1
	for _, m := range matches {
		v, err := strconv.Atoi(filepath.Base(filepath.Dir(m)))
		if err == nil && v > bestVer && hasServerBinaries(m) {
			best, bestVer = m, v
		}
	}
	if best != "" {
		return best, nil
	}
	return "", fmt.Errorf("%w: install PostgreSQL 14 or newer (Debian/Ubuntu: apt-get install postgresql; "+
		"macOS: brew install postgresql), or set DATABASE_URL to an existing database, "+
		"or run `docker compose up`", ErrNoBinaries)
}

func hasServerBinaries(dir string) bool {
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.IsDir() {
			return false
		}
	}
	return true
}

// prepareDir creates the cluster directory and, when running as root, hands it to the
// postgres user and makes its parents traversable for that user.
func (c *Cluster) prepareDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create cluster dir: %w", err)
	}
	// Unix socket paths are limited to about 100 bytes; a deep data dir falls back to a
	// short private directory under the system temp dir.
	c.socketDir = filepath.Join(dir, "run")
	if len(c.socketDir)+len("/.s.PGSQL.5432.lock") > 100 {
		short, err := os.MkdirTemp("", "packshot-pg-")
		if err != nil {
			return fmt.Errorf("create socket dir: %w", err)
		}
		c.socketDir = short
	} else if err := os.MkdirAll(c.socketDir, 0o700); err != nil {
		return fmt.Errorf("create socket dir: %w", err)
	}
	if c.cred == nil {
		return nil
	}
	uid, gid := int(c.cred.Uid), int(c.cred.Gid)
	for _, p := range []string{dir, c.socketDir} {
		if err := os.Chown(p, uid, gid); err != nil {
			return fmt.Errorf("give %s to the postgres user: %w", p, err)
		}
	}
	if _, err := os.Stat(c.dataDir); err == nil {
		if err := chownTree(c.dataDir, uid, gid); err != nil {
			return err
		}
	}
	if _, err := os.Stat(c.logFile); err == nil {
		_ = os.Chown(c.logFile, uid, gid)
	}
	return makeTraversable(filepath.Dir(dir))
}

// acquireLock takes an exclusive lock on the cluster directory so that two packshot
// processes never drive the same cluster.
func (c *Cluster) acquireLock(dir string) error {
	f, err := os.OpenFile(filepath.Join(dir, "packshot.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("open cluster lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(f.Name())
		f.Close()
		return fmt.Errorf("the embedded database in %s is in use by another packshot process (pid %s); "+
			"stop it, or give this one another PACKSHOT_DATA_DIR", dir, strings.TrimSpace(string(holder)))
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	c.lock = f
	return nil
}

func (c *Cluster) releaseLock() {
	if c.lock != nil {
		_ = syscall.Flock(int(c.lock.Fd()), syscall.LOCK_UN)
		c.lock.Close()
		c.lock = nil
	}
}

func (c *Cluster) initIfNeeded(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(c.dataDir, "PG_VERSION")); err == nil {
		return nil
	}
	// A half-made data dir from an interrupted initdb is useless: start over.
	if err := os.RemoveAll(c.dataDir); err != nil {
		return fmt.Errorf("remove incomplete data dir: %w", err)
	}
	args := []string{"-D", c.dataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"}
	if c.opts.Ephemeral {
		args = append(args, "--no-sync")
	}
	if out, err := c.command(ctx, "initdb", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w: %s", err, strings.TrimSpace(string(out)))
	}
	conf := []string{
		"# written by packshot: a private cluster reachable only through its socket",
		"listen_addresses = ''",
		"unix_socket_directories = '" + strings.ReplaceAll(c.socketDir, "'", "''") + "'",
		"port = " + strconv.Itoa(port),
		"max_connections = 300",
		"shared_buffers = 128MB",
	}
	if c.opts.Ephemeral {
		conf = append(conf, "fsync = off", "synchronous_commit = off", "full_page_writes = off")
	}
	f, err := os.OpenFile(filepath.Join(c.dataDir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("open postgresql.conf: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString("\n" + strings.Join(conf, "\n") + "\n"); err != nil {
		return fmt.Errorf("write postgresql.conf: %w", err)
	}
	c.opts.Logger.Info("embedded postgres initialised", "data", c.dataDir)
	return nil
}

// clearStalePostmaster handles a postmaster.pid left behind by a crash. If the process it
// names is gone (or the pid now belongs to something else) the file is removed; if a
// postmaster of this data dir still runs (its packshot was killed), it is stopped so this
// process owns a cluster it started.
func (c *Cluster) clearStalePostmaster(ctx context.Context) error {
	pidFile := filepath.Join(c.dataDir, "postmaster.pid")
	f, err := os.Open(pidFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("read postmaster.pid: %w", err)
	}
	sc := bufio.NewScanner(f)
	sc.Scan()
	pid, _ := strconv.Atoi(strings.TrimSpace(sc.Text()))
	f.Close()
	if pid > 0 && isPostgresProcess(pid) {
		c.opts.Logger.Warn("stopping a postgres left running by an earlier packshot", "pid", pid)
		if err := c.pgctl(ctx, "stop", "-w", "-m", "fast", "-t", "60"); err == nil {
			return nil
		}
		// pg_ctl could not stop it: the pid file may name a reused pid of another
		// postgres. Fall through and let the server's own checks decide.
		return nil
	}
	c.opts.Logger.Warn("removing stale postmaster.pid", "pid", pid)
	if err := os.Remove(pidFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove stale postmaster.pid: %w", err)
	}
	return nil
}

func isPostgresProcess(pid int) bool {
	comm, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm"))
	if err != nil {
		// Without /proc (macOS) ask the kernel whether the pid exists at all.
		return syscall.Kill(pid, 0) == nil
	}
	name := strings.TrimSpace(string(comm))
	return name == "postgres" || name == "postmaster"
}

func (c *Cluster) createDatabase(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URLFor("postgres"))
	if err != nil {
		return fmt.Errorf("connect to embedded postgres: %w", err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)",
		c.opts.Database).Scan(&exists); err != nil {
		return fmt.Errorf("look up database: %w", err)
	}
	if exists {
		return nil
	}
	// CREATE DATABASE takes no parameters; the name is quoted as an identifier.
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{c.opts.Database}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", c.opts.Database, err)
	}
	return nil
}

func (c *Cluster) pgctl(ctx context.Context, action string, args ...string) error {
	all := append([]string{action, "-D", c.dataDir}, args...)
	out, err := c.command(ctx, "pg_ctl", all...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl %s: %w: %s", action, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// command builds a PostgreSQL program invocation, as the postgres user when we are root,
// with a clean environment so that the caller's PG* variables cannot redirect it.
func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.opts.BinDir, name), args...)
	cmd.Env = []string{"PATH=" + c.opts.BinDir + ":/usr/bin:/bin", "LC_ALL=C", "TZ=UTC"}
	cmd.Dir = filepath.Dir(c.dataDir)
	// The server must outlive a Ctrl-C delivered to packshot's process group, so that
	// packshot can stop it in order; give it its own process group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: c.cred}
	return cmd
}

func (c *Cluster) logTail() string {
	b, err := os.ReadFile(c.logFile)
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "\n--- postgres.log (tail) ---\n" + string(b)
}
