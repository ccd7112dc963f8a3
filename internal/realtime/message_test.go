package realtime

import (
	"fmt"
	"testing"

	"github.com/google/uuid"
)

func TestPayloadsStayUnderTheNotifyLimit(t *testing.T) {
	t.Parallel()
	var msgs []message
	for i := range 500 {
		msgs = append(msgs, message{Kind: kindDoorbell, ProjectID: uuid.New(), UserID: fmt.Sprintf("user-%d", i), Version: int64(i + 1)})
	}
	payloads, err := encodePayloads(msgs, maxPayload)
	if err != nil {
		t.Fatal(err)
	}
	if len(payloads) < 2 {
		t.Fatalf("500 doorbells in %d payload(s); want them split", len(payloads))
	}
	var got []message
	for _, p := range payloads {
		if len(p) >= 8000 {
			t.Fatalf("payload of %d bytes; PostgreSQL refuses 8000 or more", len(p))
		}
		ms, err := decodePayload(p)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ms...)
	}
	if len(got) != len(msgs) {
		t.Fatalf("decoded %d messages; sent %d", len(got), len(msgs))
	}
	for i := range msgs {
		if got[i].change() != msgs[i].change() {
			t.Fatalf("message %d: got %+v, sent %+v", i, got[i], msgs[i])
		}
	}
}
