package server

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientAddress returns the address the per-client limits count r
// against: its peer's, or, when the peer is one of trusted (a caching tier
// or load balancer in front), the last address in X-Forwarded-For that is
// not trusted, the client that the first trusted proxy saw. Addresses to
// the left of it are the client's own say and are not believed; a chain of
// trusted proxies only, or an entry that is no address, leaves the peer's.
func clientAddress(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !within(peer, trusted) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return host
		}
		if !within(hop, trusted) {
			return hop.Unmap().String()
		}
	}
	return host
}

// within reports whether a is in one of the prefixes.
func within(a netip.Addr, prefixes []netip.Prefix) bool {
	a = a.Unmap()
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
