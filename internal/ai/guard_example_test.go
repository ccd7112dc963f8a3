package ai_test

import (
	"fmt"
	"time"

	"github.com/packshot/packshot/internal/ai"
)

// One Guard per process wraps the providers before the job handlers get
// them. In packshot its Store is db.NewPauseStore(store), so a pause one
// instance records holds for all of them.
func ExampleGuard() {
	providers := ai.NewProviders(ai.Config{}) // no keys: nothing configured
	guard := ai.NewGuard(ai.GuardConfig{
		Concurrency: map[string]int{ai.ProviderOpenAI: 2},
		Observer: ai.GuardObserver{
			CallFunc: func(provider, outcome string, d time.Duration) { /* count, observe d */ },
		},
	})
	gen := guard.Generator(providers.Generator(""))
	rm := guard.BackgroundRemover(providers.BackgroundRemover())
	// A provider without a key stays nil, and the local engine does its work.
	fmt.Println(gen == nil, rm == nil)
	// Output: true true
}
