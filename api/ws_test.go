package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// wsCall opens a wsLink connection with the token in connectionParams (none when tok is
// empty), sends one call and returns its answer.
func wsCall(t *testing.T, b *testBundle, tok, method, path string, input any) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(b.url, "http")+"/ws?connectionParams=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	params := map[string]any{}
	if tok != "" {
		params["token"] = tok
	}
	send := func(v any) {
		raw, _ := json.Marshal(v)
		if err := c.Write(ctx, websocket.MessageText, raw); err != nil {
			t.Fatal(err)
		}
	}
	send(map[string]any{"method": "connectionParams", "data": params})
	send(map[string]any{"id": 1, "method": method, "params": map[string]any{"path": path, "input": input}})
	_, raw, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var answer map[string]any
	if err := json.Unmarshal(raw, &answer); err != nil {
		t.Fatal(err)
	}
	return answer
}

func TestProceduresOverWebSocket(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noWorker: true})
	tok := token(t, "wendy", "authenticated")
	created := wsCall(t, b, tok, "mutation", "project.create", map[string]any{"name": "Teapot"})
	data, _ := created["result"].(map[string]any)["data"].(map[string]any)
	if data == nil || data["name"] != "Teapot" || data["status"] != "draft" {
		t.Fatalf("project.create over /ws: %v", created)
	}
	got := wsCall(t, b, tok, "query", "project.get", map[string]any{"id": data["id"]})
	if g, _ := got["result"].(map[string]any)["data"].(map[string]any); g == nil || g["id"] != data["id"] {
		t.Fatalf("project.get over /ws: %v", got)
	}
	for who, tk := range map[string]string{"no token": "", "another user": token(t, "xavier", "authenticated")} {
		ans := wsCall(t, b, tk, "query", "project.get", map[string]any{"id": data["id"]})
		e, _ := ans["error"].(map[string]any)
		code := ""
		if e != nil {
			code, _ = e["data"].(map[string]any)["code"].(string)
		}
		want := map[string]string{"no token": "UNAUTHORIZED", "another user": "NOT_FOUND"}[who]
		if code != want {
			t.Errorf("project.get over /ws as %s: %v; want %s", who, ans, want)
		}
	}
}
