package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// TestBenchRealtimePrintsItsResult runs a small `packshot bench realtime` on the embedded
// database and checks its last line: every client ends at its project's final version.
func TestBenchRealtimePrintsItsResult(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster")
	}
	env := map[string]string{"PACKSHOT_DATA_DIR": t.TempDir(), "PACKSHOT_LOG_LEVEL": "warn"}
	var out bytes.Buffer
	err := run(context.Background(), []string{"packshot", "bench", "realtime",
		"-clients", "20", "-projects", "4", "-rate", "40", "-duration", "500ms", "-in-process"},
		mapEnv(env), &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var res benchRealtimeResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}
	if res.Bench != "realtime" || res.Clients != 20 || res.Updates == 0 || res.Receipts == 0 {
		t.Fatalf("result %+v; want 20 clients receiving updates", res)
	}
	if res.FinalVersionMismatches != 0 {
		t.Fatalf("%d clients were left behind the final version", res.FinalVersionMismatches)
	}
}
