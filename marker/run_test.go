package marker_test

import (
	"context"
	"testing"
	"time"

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

// waitRevised waits, woken by wake, until store holds marker m of stream at a later
// revision than m's. It reports false, with the revision held, if
// deadline comes first.
func waitRevised(t *testing.T, store marker.Store, stream string, m marker.Marker, wake <-chan struct{}, deadline <-chan time.Time) (marker.Rev, bool) {
	t.Helper()
	for {
		got, err := store.Get(context.Background(), stream, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Rev > m.Rev {
			return got.Rev, true
		}
		select {
		case <-wake:
		case <-deadline:
			return got.Rev, false
		}
	}
}
