package config

import (
	"testing"
	"time"
)

// TestRequestLimits covers the request-reading and batch limits (issue 13): their
// defaults, overrides, and a batch concurrency below 1 refused by name.
func TestRequestLimits(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.ReadTimeout != 30*time.Second || c.IdleTimeout != 120*time.Second || c.UploadReadTimeout != 120*time.Second ||
		c.MaxUploadsInFlight != 8 || c.MaxBatchConcurrency != 4 {
		t.Errorf("defaults = %+v", c)
	}
	c, err = Load(env(map[string]string{"PACKSHOT_READ_TIMEOUT": "2s", "PACKSHOT_IDLE_TIMEOUT": "1m",
		"PACKSHOT_UPLOAD_READ_TIMEOUT": "5m", "PACKSHOT_MAX_UPLOADS_IN_FLIGHT": "0", "PACKSHOT_MAX_BATCH_CONCURRENCY": "16"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.ReadTimeout != 2*time.Second || c.IdleTimeout != time.Minute || c.UploadReadTimeout != 5*time.Minute ||
		c.MaxUploadsInFlight != 0 || c.MaxBatchConcurrency != 16 {
		t.Errorf("overrides = %+v", c)
	}
	if _, err := Load(env(map[string]string{"PACKSHOT_MAX_BATCH_CONCURRENCY": "0"})); err == nil {
		t.Error("PACKSHOT_MAX_BATCH_CONCURRENCY=0 accepted")
	}
}
