package config

import (
	"strings"
	"testing"
)

func TestLoadDecodeGuard(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil || c.DecodeBudgetBytes != 768<<20 || c.MaxCostlyMegapixels != 24 {
		t.Fatalf("defaults: budget %d, costly %d MP, %v", c.DecodeBudgetBytes, c.MaxCostlyMegapixels, err)
	}
	c, err = Load(env(map[string]string{"PACKSHOT_DECODE_BUDGET_BYTES": "2147483648", "PACKSHOT_MAX_PROGRESSIVE_CMYK_MEGAPIXELS": "12"}))
	if err != nil || c.DecodeBudgetBytes != 2<<30 || c.MaxCostlyMegapixels != 12 {
		t.Fatalf("set: budget %d, costly %d MP, %v", c.DecodeBudgetBytes, c.MaxCostlyMegapixels, err)
	}
	for name, value := range map[string]string{
		"PACKSHOT_DECODE_BUDGET_BYTES":             "1000",
		"PACKSHOT_MAX_PROGRESSIVE_CMYK_MEGAPIXELS": "0",
	} {
		if _, err := Load(env(map[string]string{name: value})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: %v; want an error naming it", name, value, err)
		}
	}
}
