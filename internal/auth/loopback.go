package auth

import (
	"net"
	"strings"
)

// LoopbackHost reports whether host (a name or an IP literal, without a port; IPv6 with or
// without brackets) can only mean this machine: "localhost", a name under ".localhost",
// or a loopback address. Dev mode answers only such hosts, so a page on another site that
// rebinds its own name to 127.0.0.1 is still refused: its requests carry its name.
func LoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// LoopbackAddr reports whether the listen or peer address hostport ("host:port", or a
// bare host) is on a loopback interface. An empty host (":8080") listens on every
// interface and is not loopback.
func LoopbackAddr(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	if host == "" {
		return false
	}
	return LoopbackHost(host)
}
