package auth

import "context"

// Roles a token can carry, named as Supabase names them.
const (
	// RoleAuthenticated is an ordinary signed-in user: they see only their own projects.
	RoleAuthenticated = "authenticated"
	// RoleService is the operator (Supabase's service key): they see every user's objects
	// and may call the admin procedures.
	RoleService = "service_role"
)

// User is the caller a verified token names.
type User struct {
	// ID is the token's `sub`: the user id, stored as TEXT wherever rows are owned.
	ID string
	// Role is RoleAuthenticated or RoleService.
	Role string
}

// IsAdmin reports whether the user holds the service role.
func (u User) IsAdmin() bool { return u.Role == RoleService }

// userKey is the context key for the request's User.
type userKey struct{}

// WithUser returns a copy of ctx carrying u.
func WithUser(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the User that WithUser stored in ctx, and false when there is none.
func UserFrom(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(userKey{}).(User)
	return u, ok
}

// validRole reports whether role is one packshot accepts.
func validRole(role string) bool { return role == RoleAuthenticated || role == RoleService }
