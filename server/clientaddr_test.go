package server

import (
	"net/http"
	"net/netip"
	"testing"
)

// casesClientAddress: which address the per-client limits count a
// request against, with nginx on 127.0.0.1 trusted.
var casesClientAddress = []struct {
	name    string
	peer    string
	forward []string // X-Forwarded-For headers, as sent
	want    string
}{
	{"no proxy", "198.51.100.7:5000", nil, "198.51.100.7"},
	{"an untrusted peer's X-Forwarded-For is its own say", "198.51.100.7:5000", []string{"203.0.113.1"}, "198.51.100.7"},
	{"through the trusted proxy", "127.0.0.1:5000", []string{"203.0.113.1"}, "203.0.113.1"},
	{"what the client put before is not believed", "127.0.0.1:5000", []string{"192.0.2.66, 203.0.113.1"}, "203.0.113.1"},
	{"headers sent twice are one list", "127.0.0.1:5000", []string{"192.0.2.66", "203.0.113.1"}, "203.0.113.1"},
	{"the trusted proxy without the header", "127.0.0.1:5000", nil, "127.0.0.1"},
	{"trusted hops only", "127.0.0.1:5000", []string{"127.0.0.1"}, "127.0.0.1"},
	{"an entry that is no address", "127.0.0.1:5000", []string{"203.0.113.1, unknown"}, "127.0.0.1"},
	{"IPv6 client", "127.0.0.1:5000", []string{"2001:db8::1"}, "2001:db8::1"},
}

func TestClientAddress(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	for _, c := range casesClientAddress {
		t.Run(c.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: c.peer, Header: http.Header{}}
			for _, f := range c.forward {
				r.Header.Add("X-Forwarded-For", f)
			}
			if got := clientAddress(r, trusted); got != c.want {
				t.Errorf("clientAddress: %s; want %s", got, c.want)
			}
		})
	}
}
