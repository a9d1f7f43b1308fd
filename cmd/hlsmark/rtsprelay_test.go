package main

import (
	"os/exec"
	"sync"
	"testing"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/pion/rtp"
)

// rtspRelay is a real RTSP server on loopback (gortsplib) that takes one
// publisher's stream (ANNOUNCE, RECORD) and serves it to readers
// (DESCRIBE, SETUP, PLAY), with the ffmpeg CLI publishing a file to it
// in a loop, in real time: an IP camera as hlsmark sees one.
type rtspRelay struct {
	srv       *gortsplib.Server
	publisher *exec.Cmd

	mu     sync.Mutex
	stream *gortsplib.ServerStream // nil until the publisher announces
	from   *gortsplib.ServerSession
}

// relayAddrs are where a relay listens: RTSP (TCP), and for readers that
// take their media over UDP, RTP and RTCP (an even port and the next); no
// UDP addresses: media over TCP only.
type relayAddrs struct{ rtsp, rtp, rtcp string }

// startRelay starts the server on a's addresses and ffmpeg publishing
// clip to rtsp://a.rtsp/cam, over TCP. The test's cleanup stops both if
// the test has not.
func startRelay(t *testing.T, a relayAddrs, clip string) *rtspRelay {
	t.Helper()
	r := &rtspRelay{}
	r.srv = &gortsplib.Server{Handler: r, RTSPAddress: a.rtsp, UDPRTPAddress: a.rtp, UDPRTCPAddress: a.rtcp}
	addr := a.rtsp
	if err := r.srv.Start(); err != nil {
		t.Fatalf("rtsp server on %+v: %v", a, err)
	}
	bin, err := exec.LookPath("ffmpeg")
	if err != nil {
		r.srv.Close()
		t.Fatalf("ffmpeg is required (Debian package ffmpeg): %v", err)
	}
	r.publisher = exec.Command(bin, "-nostdin", "-v", "error", "-re", "-stream_loop", "-1", "-i", clip,
		"-c", "copy", "-f", "rtsp", "-rtsp_transport", "tcp", "rtsp://"+addr+"/cam")
	if err := r.publisher.Start(); err != nil {
		r.srv.Close()
		t.Fatal(err)
	}
	t.Cleanup(r.stop)
	return r
}

// stop kills the publisher and closes the server: every reader's
// connection ends. It may be called again.
func (r *rtspRelay) stop() {
	if r.publisher.ProcessState == nil {
		_ = r.publisher.Process.Kill()
		_ = r.publisher.Wait()
	}
	r.srv.Close()
}

// OnAnnounce takes the publisher's stream description.
func (r *rtspRelay) OnAnnounce(ctx *gortsplib.ServerHandlerOnAnnounceCtx) (*base.Response, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stream != nil {
		r.stream.Close()
	}
	r.stream = &gortsplib.ServerStream{Server: r.srv, Desc: ctx.Description}
	if err := r.stream.Initialize(); err != nil {
		r.stream = nil
		return &base.Response{StatusCode: base.StatusInternalServerError}, err
	}
	r.from = ctx.Session
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// OnRecord passes every packet the publisher sends on to the readers.
func (r *rtspRelay) OnRecord(ctx *gortsplib.ServerHandlerOnRecordCtx) (*base.Response, error) {
	r.mu.Lock()
	stream := r.stream
	r.mu.Unlock()
	ctx.Session.OnPacketRTPAny(func(m *description.Media, _ format.Format, pkt *rtp.Packet) {
		_ = stream.WritePacketRTP(m, pkt) // a reader too slow loses the packet, as from a camera
	})
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// OnDescribe gives a reader the publisher's stream, 404 before there is one.
func (r *rtspRelay) OnDescribe(*gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return r.serve()
}

// OnSetup sets up a publisher's media, or a reader's from the stream.
func (r *rtspRelay) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	if ctx.Session.State() == gortsplib.ServerSessionStatePreRecord {
		return &base.Response{StatusCode: base.StatusOK}, nil, nil
	}
	return r.serve()
}

// OnPlay lets a reader play.
func (r *rtspRelay) OnPlay(*gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// OnSessionClose ends the stream when its publisher leaves.
func (r *rtspRelay) OnSessionClose(ctx *gortsplib.ServerHandlerOnSessionCloseCtx) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stream != nil && ctx.Session == r.from {
		r.stream.Close()
		r.stream, r.from = nil, nil
	}
}

// serve answers a reader with the stream, or 404 while nobody publishes.
func (r *rtspRelay) serve() (*base.Response, *gortsplib.ServerStream, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stream == nil {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, nil
	}
	return &base.Response{StatusCode: base.StatusOK}, r.stream, nil
}
