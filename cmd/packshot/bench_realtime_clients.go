package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// benchClientSpec is what the parent tells the client process on its stdin.
type benchClientSpec struct {
	Addr     string   `json:"addr"`
	Token    string   `json:"token"`
	Projects []string `json:"projects"`
	Clients  int      `json:"clients"`
	// Superjson sends inputs in superjson's shape (the server's default transformer).
	Superjson bool `json:"superjson"`
}

// benchReceipt is one event a client received: which client, which version, when.
type benchReceipt struct {
	client  int
	version int64
	at      int64
}

// startBenchClients runs the clients in a child process (or in this one) and sends their
// receipts to out, closing it when they end. The returned function waits for them.
func startBenchClients(ctx context.Context, spec benchClientSpec, inProcess bool, e *env, out chan<- benchReceipt) (func(), error) {
	if inProcess {
		pr, pw := io.Pipe()
		done := make(chan struct{})
		go func() { _ = runBenchClients(ctx, spec, pw); pw.Close(); close(done) }()
		go parseReceipts(pr, out)
		return func() { <-done }, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable: %w", err)
	}
	cmd := exec.CommandContext(ctx, exe, "bench", "realtime", "-clients-only")
	cmd.Stderr = e.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start clients: %w", err)
	}
	if err := json.NewEncoder(stdin).Encode(spec); err != nil {
		return nil, fmt.Errorf("send client spec: %w", err)
	}
	go parseReceipts(stdout, out)
	return func() { _ = stdin.Close(); _ = cmd.Wait() }, nil
}

// parseReceipts reads "r <client> <version> <unix ns>" lines.
func parseReceipts(r io.Reader, out chan<- benchReceipt) {
	defer close(out)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 4 || f[0] != "r" {
			continue
		}
		c, _ := strconv.Atoi(f[1])
		v, _ := strconv.ParseInt(f[2], 10, 64)
		at, _ := strconv.ParseInt(f[3], 10, 64)
		out <- benchReceipt{client: c, version: v, at: at}
	}
}

// runBenchClients opens spec.Clients wsLink connections, subscribes client i to project
// i mod P, and writes a receipt line for every tracked event until ctx ends or stdin (the
// parent) closes.
func runBenchClients(ctx context.Context, spec benchClientSpec, w io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	bw := bufio.NewWriterSize(w, 64<<10)
	go func() { // flush receipts often; the receipt time is taken before buffering
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				mu.Lock()
				_ = bw.Flush()
				mu.Unlock()
			}
		}
	}()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: -1}}
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := range spec.Clients {
		sem <- struct{}{}
		wg.Go(func() {
			c, err := dialBenchClient(ctx, hc, spec, spec.Projects[i%len(spec.Projects)])
			<-sem
			if err != nil {
				if failed.Add(1) <= 3 {
					fmt.Fprintln(os.Stderr, "bench client:", err)
				}
				cancel() // a benchmark with missing clients measures nothing
				return
			}
			defer c.CloseNow()
			for {
				_, data, err := c.Read(ctx)
				if err != nil {
					return
				}
				v, ok := trackedVersion(data)
				if !ok {
					continue
				}
				at := time.Now().UnixNano()
				mu.Lock()
				fmt.Fprintf(bw, "r %d %d %d\n", i, v, at)
				mu.Unlock()
			}
		})
	}
	if f, ok := w.(*os.File); ok && f == os.Stdout {
		go func() { _, _ = io.Copy(io.Discard, os.Stdin); cancel() }() // parent went away
	}
	<-ctx.Done()
	wg.Wait()
	return nil
}

func dialBenchClient(ctx context.Context, hc *http.Client, spec benchClientSpec, project string) (*websocket.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(dctx, "ws://"+spec.Addr+"/ws?connectionParams=1", &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	c.SetReadLimit(1 << 20)
	params, _ := json.Marshal(map[string]any{"method": "connectionParams", "data": map[string]string{"token": spec.Token}})
	var input any = map[string]string{"id": project}
	if spec.Superjson {
		input = map[string]any{"json": input}
	}
	sub, _ := json.Marshal(map[string]any{"id": 1, "method": "subscription",
		"params": map[string]any{"path": "project.onUpdate", "input": input}})
	for _, m := range [][]byte{params, sub} {
		if err := c.Write(dctx, websocket.MessageText, m); err != nil {
			c.CloseNow()
			return nil, fmt.Errorf("write: %w", err)
		}
	}
	return c, nil
}

// trackedVersion finds a tracked data event's id (the version) without decoding the
// whole frame.
func trackedVersion(frame []byte) (int64, bool) {
	const marker = `"type":"data","id":"`
	s := string(frame)
	i := strings.Index(s, marker)
	if i < 0 {
		return 0, false
	}
	s = s[i+len(marker):]
	j := strings.IndexByte(s, '"')
	if j < 0 {
		return 0, false
	}
	v, err := strconv.ParseInt(s[:j], 10, 64)
	return v, err == nil
}
