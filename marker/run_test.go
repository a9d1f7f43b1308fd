package marker_test

import (
	"context"
	"testing"

	"github.com/hlsmark/hlsmark/marker"
)

// runService runs svc until the test ends.
func runService(t *testing.T, svc *marker.Service) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		svc.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}
