package main

import (
	"github.com/packshot/packshot/internal/config"
	"github.com/packshot/packshot/internal/imaging"
	"github.com/packshot/packshot/internal/telemetry"
)

// configureDecode sets the process-wide image decode guard from cfg, reporting to
// metrics. Every decode in the process (upload validation, job handlers) goes through
// it; `packshot pack` keeps imaging's defaults.
func configureDecode(cfg config.Config, metrics *telemetry.Metrics) {
	imaging.ConfigureDecode(imaging.DecodeConfig{
		BudgetBytes:     cfg.DecodeBudgetBytes,
		MaxCostlyPixels: int64(cfg.MaxCostlyMegapixels) * 1_000_000,
		Observer:        metrics.Decode(cfg.DecodeBudgetBytes),
	})
}
