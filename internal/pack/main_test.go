package pack

import (
	"testing"

	"github.com/packshot/packshot/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
