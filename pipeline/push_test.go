package pipeline_test

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/hlsmark/hlsmark/pipeline"
)

// TestPushHandsOver checks Push's contract with no pipeline around it:
// with no Next to take it a picture is not accepted (Push has no queue of
// its own, so it waits and gives up with its context); once Next takes
// it the frame has its PTS and Newest tells it; a PTS that does not rise
// is refused and Newest stays; End makes the waiting Next return io.EOF
// and Push ErrEnded. Checked to fail by having Next note the PTS as
// newest before accepting it (Newest then tells the refused 150).
func TestPushHandsOver(t *testing.T) {
	src, err := pipeline.NewPush(rawSize, pipeline.Gray, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	pic := uniform(pipeline.Gray, []byte{77})

	gone, cancel := context.WithCancel(context.Background())
	cancel()
	if err := src.Push(gone, 100, pipeline.Gray, pic); !errors.Is(err, context.Canceled) {
		t.Fatalf("Push with no Next and its context ended: %v, want context.Canceled", err)
	}
	if _, ok := src.Newest(); ok {
		t.Fatal("Newest tells a PTS that was never taken")
	}

	ctx := context.Background()
	f := pipeline.NewFrame(rawSize)
	next := make(chan error, 1)
	go func() { next <- src.Next(ctx, f) }()
	if err := src.Push(ctx, 200, pipeline.Gray, pic); err != nil {
		t.Fatal(err)
	}
	// Once Push has returned, Newest tells the PTS: a marker placed there
	// is in the stream's range (the example's AddMarker failed when Next
	// noted it only after handing the picture back).
	if newest, ok := src.Newest(); !ok || newest != 200 {
		t.Fatalf("Newest %d %v once Push returned, want 200", newest, ok)
	}
	if err := <-next; err != nil || f.PTS != 200 || f.BGR[0] != 77 {
		t.Fatalf("Next: %v, frame at PTS %d with blue %d, want the picture pushed at 200 (77)", err, f.PTS, f.BGR[0])
	}
	go func() { next <- src.Next(ctx, f) }()
	if err := src.Push(ctx, 150, pipeline.Gray, pic); !errors.Is(err, pipeline.ErrRejected) {
		t.Fatalf("Push at PTS 150 after 200: %v, want ErrRejected", err)
	}
	if newest, ok := src.Newest(); !ok || newest != 200 {
		t.Errorf("Newest %d %v, want 200, the PTS taken", newest, ok)
	}

	src.End() // the Next waiting since the refusal ends
	if err := <-next; !errors.Is(err, io.EOF) {
		t.Errorf("Next after End: %v, want io.EOF", err)
	}
	if err := src.Push(ctx, 300, pipeline.Gray, pic); !errors.Is(err, pipeline.ErrEnded) {
		t.Errorf("Push after End: %v, want ErrEnded", err)
	}
}
