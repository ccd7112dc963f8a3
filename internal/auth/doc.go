// Package auth verifies the bearer tokens packshot accepts and issues its own.
//
// A token is a JWT signed with HS256 and a shared secret, exactly as Supabase issues them:
// `sub` is the user id (any non-empty text), `role` is "authenticated" or "service_role"
// (the operator, who sees everything). Verification pins the algorithm (a token whose
// header names any other algorithm, "none" included, is refused before its signature is
// looked at), requires `exp`, and honours `exp` and `nbf` with a small leeway for clock
// skew. Every failure is an *apperr.Error with code EUNAUTHORIZED whose message says what
// was wrong without repeating the token.
//
// Dev mode (the embedded database and no configured secret) uses a random secret that
// DevSecret creates once and keeps in the data dir, so tokens survive restarts.
package auth
