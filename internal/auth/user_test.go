package auth

import (
	"context"
	"testing"
)

func TestUserContext(t *testing.T) {
	t.Parallel()
	if _, ok := UserFrom(context.Background()); ok {
		t.Fatal("empty context has a user")
	}
	want := User{ID: "alice", Role: RoleAuthenticated}
	got, ok := UserFrom(WithUser(context.Background(), want))
	if !ok || got != want {
		t.Fatalf("got %+v, %v; want %+v", got, ok, want)
	}
}
