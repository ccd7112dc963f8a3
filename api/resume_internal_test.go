package api

import "testing"

// TestResumeSkipsEveryStateTheClientHas: a client resuming at version 5 on an instance
// whose view lags (it reads 2, then 3, then 6) is sent 6 and what follows, never 3: the
// rule is not "skip the first state" but "skip until one newer than the client's".
func TestResumeSkipsEveryStateTheClientHas(t *testing.T) {
	r := resumeFrom("5")
	for _, c := range []struct {
		v    int64
		skip bool
	}{{2, true}, {3, true}, {5, true}, {6, false}, {6, false}, {7, false}} {
		if got := r.skip(c.v); got != c.skip {
			t.Fatalf("resuming at 5: skip(%d) = %v; want %v", c.v, got, c.skip)
		}
	}

	fresh := resumeFrom("") // no id: everything, from the current state on
	for _, v := range []int64{1, 1, 2} {
		if fresh.skip(v) {
			t.Fatalf("a client without an event id missed state %d", v)
		}
	}
	if foreign := resumeFrom("not-a-version"); foreign.skip(1) {
		t.Fatal("an event id not of ours held back the current state")
	}
}
