package notifier_test

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// notifyAllowed lists the sources outside this package that may NOTIFY, and why that is
// never inside an enqueue or job-state transaction of packshot's own code.
var notifyAllowed = map[string]string{
	// enqueue_job() is the SQL entry point for outside clients (notify => false opts
	// out); packshot's Go code enqueues with its own statements and never calls it.
	"migrations/00002_job_queue.sql": "enqueue_job() for SQL clients",
}

// TestOnlyNotifierNotifies is the structural guarantee that no business transaction
// NOTIFYs and that one connection per instance LISTENs: outside this package, only the
// sources in notifyAllowed issue NOTIFY or pg_notify, no Go code issues LISTEN, and Go
// code never calls enqueue_job(). This package's Notify takes no transaction: it sends
// on the pool, in one statement of its own.
func TestOnlyNotifierNotifies(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found: %v", err)
	}
	self, _ := filepath.Abs(".")
	goNotify := regexp.MustCompile("(?i)pg_notify\\s*\\(|[\"`]\\s*NOTIFY\\s")
	goListen := regexp.MustCompile("[\"`]\\s*(UN)?LISTEN\\s") // SQL keywords are upper case here
	sqlNotify := regexp.MustCompile(`(?i)pg_notify\s*\(|\bNOTIFY\s+\w`)
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "testdata", ".packshot":
				return filepath.SkipDir
			}
			if path == self {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		var re *regexp.Regexp
		switch {
		case strings.HasSuffix(path, "_test.go"):
			return nil // tests may notify on purpose; they run no business transactions
		case strings.HasSuffix(path, ".go"):
			re = goNotify
		case strings.HasSuffix(path, ".sql"):
			re = sqlNotify
		default:
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			if trimmed := strings.TrimSpace(line); strings.HasPrefix(trimmed, "--") || strings.HasPrefix(trimmed, "//") {
				continue
			}
			if re.MatchString(line) && notifyAllowed[rel] == "" {
				t.Errorf("%s:%d issues NOTIFY outside internal/notifier: %s", rel, n, strings.TrimSpace(line))
			}
			if strings.HasSuffix(path, ".go") {
				if goListen.MatchString(line) {
					t.Errorf("%s:%d issues LISTEN outside internal/notifier: %s", rel, n, strings.TrimSpace(line))
				}
				if strings.Contains(strings.ToLower(line), "enqueue_job(") && !strings.HasPrefix(strings.TrimSpace(line), "//") {
					t.Errorf("%s:%d calls enqueue_job(), which NOTIFYs in the caller's transaction: %s", rel, n, strings.TrimSpace(line))
				}
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
}
