package trpc

import (
	"strings"
	"testing"
)

// TestWebSocketOversizeManyIDs sends a message just over the size limit made of tiny
// requests ({"id":N},…): it is answered with at most MaxBatchSize errors for ids and one
// for id null, not one frame per id (about 115,000 for 1 MiB), and the socket carries on.
func TestWebSocketOversizeManyIDs(t *testing.T) {
	t.Parallel()
	const maxBody, batch = 64 << 10, 5
	b := newLimitsBundle(t, Config{MaxBodyBytes: maxBody, MaxBatchSize: batch}, nil, nil)
	w, _, err := b.dial(t, "10.0.0.1", "alice")
	if err != nil {
		t.Fatal(err)
	}
	var msg strings.Builder
	msg.WriteString("[")
	for i := 0; msg.Len() <= maxBody; i++ {
		msg.WriteString(`{"id":1},`)
	}
	msg.WriteString(`{"id":1}]`)
	w.send(msg.String())
	w.send(`{"id":"after","method":"query","params":{"path":"me"}}`)
	withID, withNull := 0, 0
	for {
		got := w.read()
		switch {
		case strings.HasPrefix(got, `{"id":1,"error":`):
			withID++
		case strings.HasPrefix(got, `{"id":null,"error":`) && strings.Contains(got, "PAYLOAD_TOO_LARGE"):
			withNull++
		case got == `{"id":"after","result":{"type":"data","data":"alice"}}`:
			if withID != batch || withNull != 1 {
				t.Errorf("oversize message of tiny requests: %d errors with an id and %d with id null; want %d and 1", withID, withNull, batch)
			}
			return
		default:
			t.Fatalf("unexpected frame %s", got)
		}
	}
}
