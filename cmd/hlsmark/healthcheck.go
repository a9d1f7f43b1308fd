package main

import (
	"flag"
	"fmt"
	"net/http"
	"time"
)

// healthcheck asks a running server for /readyz, for container health
// checks that should need nothing but this binary: a server whose streams
// stalled (a full disk, a dead source) is unhealthy, not just one that
// stopped answering.
func healthcheck(args []string) error {
	var addr string
	if err := healthcheckFlags(&addr).parse(args); err != nil {
		return err
	}
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get("http://" + addr + "/readyz")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("readyz: %s", resp.Status)
	}
	return nil
}

// healthcheckFlags returns the flag set of `hlsmark healthcheck`, bound to
// addr.
func healthcheckFlags(addr *string) *commandLine {
	cl := newCommandLine("healthcheck", "Exits 0 if the server at --addr is ready: /readyz answers 200, every stream\npublishing. Any other answer (503: a stream stalled), or none within 3 s,\nexits 1.")
	cl.group("Server", func(fs *flag.FlagSet) {
		fs.StringVar(addr, "addr", "127.0.0.1:8080", "`host:port` of the server to check")
	})
	return cl
}
