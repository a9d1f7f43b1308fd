package main

import (
	"flag"
	"fmt"
	"net/http"
	"time"
)

// healthcheck asks a running server for /healthz, for container health
// checks that should need nothing but this binary.
func healthcheck(args []string) error {
	var addr string
	if err := healthcheckFlags(&addr).parse(args); err != nil {
		return err
	}
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get("http://" + addr + "/healthz")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz: %s", resp.Status)
	}
	return nil
}

// healthcheckFlags returns the flag set of `hlsmark healthcheck`, bound to
// addr.
func healthcheckFlags(addr *string) *commandLine {
	cl := newCommandLine("healthcheck", "Exits 0 if the server at --addr answers /healthz.\nAny other answer, or none within 3 s, exits 1.")
	cl.group("Server", func(fs *flag.FlagSet) {
		fs.StringVar(addr, "addr", "127.0.0.1:8080", "`host:port` of the server to check")
	})
	return cl
}
