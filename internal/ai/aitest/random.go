package aitest

import (
	"crypto/rand"
	"encoding/hex"
)

// randomHex returns n random bytes in hex, for request ids.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
