package trpc

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// wsInput fails its validation when Name is empty.
type wsInput struct {
	Name string `json:"name"`
}

func (in wsInput) Validate() error {
	if in.Name == "" {
		return FieldErrors{"name": "is required"}
	}
	return nil
}

// A subscription whose input is invalid answers with the error alone, before
// "started" and with no "stopped", as the reference server does; its function
// never runs.
func TestWebSocketInputErrorBeforeStarted(t *testing.T) {
	t.Parallel()
	r := NewRouter(Config{})
	ran := make(chan string, 4)
	Subscription(r, "greetings", func(ctx context.Context, in wsInput, last string, send func(Event[string]) error) error {
		ran <- in.Name
		return send(Event[string]{ID: "1", Data: "hello " + in.Name})
	})
	_, send, read := dialWS(t, r, "")
	send(`{"id":1,"method":"subscription","params":{"path":"greetings","input":{"name":""}}}`)
	var first struct {
		ID    int
		Error struct {
			Data struct {
				Code     Code
				ZodError struct {
					FieldErrors map[string][]string
				}
			}
		}
	}
	got := read()
	if err := json.Unmarshal([]byte(got), &first); err != nil || first.ID != 1 || first.Error.Data.Code != CodeBadRequest ||
		len(first.Error.Data.ZodError.FieldErrors["name"]) != 1 {
		t.Fatalf("invalid input: got %s, want the BAD_REQUEST error with zodError for id 1", got)
	}
	send(`{"id":2,"method":"subscription","params":{"path":"greetings","input":{"name":7}}}`)
	if got := read(); !strings.HasPrefix(got, `{"id":2,"error":`) || !strings.Contains(got, `"BAD_REQUEST"`) {
		t.Fatalf("malformed input: got %s", got)
	}
	// Nothing else was sent for either id: the next frame is the PONG.
	send("PING")
	if got := read(); got != "PONG" {
		t.Fatalf("after the input errors: got %s, want PONG", got)
	}
	select {
	case name := <-ran:
		t.Fatalf("the subscription ran with an invalid input %q", name)
	default:
	}
	// A valid input still starts.
	send(`{"id":3,"method":"subscription","params":{"path":"greetings","input":{"name":"a"}}}`)
	for _, want := range []string{
		`{"id":3,"result":{"type":"started"}}`,
		`{"id":3,"result":{"type":"data","id":"1","data":{"id":"1","data":"hello a"}}}`,
		`{"id":3,"result":{"type":"stopped"}}`,
	} {
		if got := read(); got != want {
			t.Errorf("valid input: got %s, want %s", got, want)
		}
	}
}

// A procedure called with another type's method over the WebSocket (a
// subscription as a query, a query as a subscription) is NOT_FOUND with the
// reference server's message, like a missing one, and never "started".
func TestWebSocketProcedureTypeMismatch(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	_, send, read := dialWS(t, b.router, "")
	for _, c := range []struct{ method, path string }{
		{"query", "item.watch"},
		{"mutation", "item.watch"},
		{"subscription", "item.get"},
		{"query", "item.add"},
		{"subscription", "item.missing"},
	} {
		send(`{"id":1,"method":"` + c.method + `","params":{"path":"` + c.path + `","input":{"id":1}}}`)
		want := `{"id":1,"error":{"message":"No \"` + c.method + `\"-procedure on path \"` + c.path + `\"","code":-32004,"data":{"code":"NOT_FOUND","httpStatus":404,"path":"` + c.path + `","zodError":null}}}`
		if got := read(); got != want {
			t.Errorf("%s %s:\n got %s\nwant %s", c.method, c.path, got, want)
		}
	}
	send("PING")
	if got := read(); got != "PONG" {
		t.Errorf("after the mismatches: got %s, want PONG", got)
	}
}
