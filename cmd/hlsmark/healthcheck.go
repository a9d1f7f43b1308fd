package main

import (
	"fmt"
	"net/http"
	"time"
)

// healthcheck asks a running server for /healthz, for container health
// checks that should need nothing but this binary.
func healthcheck(args []string) error {
	fs := newFlagSet("healthcheck")
	addr := fs.String("addr", "127.0.0.1:8080", "address of the server to check")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get("http://" + *addr + "/healthz")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz: %s", resp.Status)
	}
	return nil
}
