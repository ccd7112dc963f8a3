package auth

import (
	"testing"

	"github.com/packshot/packshot/internal/pgtest"
)

// TestMain gives the ticket tests a real PostgreSQL (pgtest) and removes a throwaway
// cluster at the end.
func TestMain(m *testing.M) { pgtest.Main(m) }
