package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// gen ts generates for the transformer the server runs with: the
// -transformer flag, else PACKSHOT_TRPC_TRANSFORMER, else superjson.
func TestGenTSTransformer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		env       map[string]string
		args      []string
		superjson bool
	}{
		{"default", nil, nil, true},
		{"from the environment", map[string]string{"PACKSHOT_TRPC_TRANSFORMER": "json"}, nil, false},
		{"the flag wins", map[string]string{"PACKSHOT_TRPC_TRANSFORMER": "json"}, []string{"-transformer", "superjson"}, true},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		if err := run(context.Background(), append([]string{"packshot", "gen", "ts"}, tt.args...), mapEnv(tt.env), &out, io.Discard); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := strings.Contains(out.String(), "transformer: true"); got != tt.superjson {
			t.Errorf("%s: superjson = %v", tt.name, got)
		}
		// The web app's vocabulary comes with either transformer.
		if !strings.Contains(out.String(), "export const imageTypes: readonly ImageType[] = [") {
			t.Errorf("%s: no imageTypes", tt.name)
		}
	}
}
