package pipeline

// #cgo pkg-config: libavformat
// #include <stdlib.h>
// #include <string.h>
// #include <libavformat/avio.h>
//
// // hlsmark_has_input_protocol reports whether libavformat was built with
// // the input protocol called name.
// static int hlsmark_has_input_protocol(const char *name) {
//     void *opaque = NULL;
//     const char *p;
//     while ((p = avio_enum_protocols(&opaque, 0)) != NULL)
//         if (strcmp(p, name) == 0) return 1;
//     return 0;
// }
import "C"

import (
	"cmp"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/asticode/go-astiav"

	"github.com/hlsmark/hlsmark/pipeline/media"
)

// DefaultReadTimeout bounds each blocking call on a live input (the
// connection, the stream probe, every read) unless LiveConfig.Timeout
// says otherwise: a camera silent for that long is reconnected.
const DefaultReadTimeout = 5 * time.Second

// deviceFormat is libavdevice's camera input, and devicePrefix the form of
// --input that names it explicitly.
const (
	deviceFormat = "v4l2"
	devicePrefix = "v4l2:"
)

// networkSchemes are the URL schemes of the network inputs, each with the
// libav input protocol it needs (rtsp and rtsps are the rtsp demuxer's,
// over tcp and tls).
var networkSchemes = map[string]string{
	"rtsp": "tcp", "rtsps": "tls", "http": "http", "https": "https", "udp": "udp", "srt": "srt",
}

// IsNetworkInput reports whether input is the URL of a network input:
// rtsp, rtsps, http, https, udp or srt.
func IsNetworkInput(input string) bool {
	scheme, _, ok := strings.Cut(input, "://")
	_, known := networkSchemes[strings.ToLower(scheme)]
	return ok && known
}

// IsDeviceInput reports whether input names a camera: /dev/videoN, or
// any device path after v4l2:.
func IsDeviceInput(input string) bool {
	return strings.HasPrefix(input, devicePrefix) || strings.HasPrefix(input, "/dev/video")
}

// DevicePath returns the path of the camera input names.
func DevicePath(input string) string { return strings.TrimPrefix(input, devicePrefix) }

// DeviceConfig is what a camera is asked for; each empty field leaves the
// device's default.
type DeviceConfig struct {
	// Size is the picture size (v4l2's video_size).
	Size media.Size
	// FPS is the frame rate, N or N/D frames a second (v4l2's framerate).
	FPS string
	// PixFmt is the pixel format or compressed format to capture, as
	// libav names it: yuyv422, mjpeg... (v4l2's input_format).
	PixFmt string
}

// flag returns the name of the flag of the first field set, if any.
func (d DeviceConfig) flag() string {
	switch {
	case d.Size != (media.Size{}):
		return "input-size"
	case d.FPS != "":
		return "input-fps"
	}
	return "input-pix-fmt"
}

// LiveConfig configures a live source: a network input or a camera.
type LiveConfig struct {
	// Input is the network input's URL (see IsNetworkInput) or the
	// camera's path (see IsDeviceInput).
	Input string
	// Size is the size every frame is scaled to.
	Size media.Size
	// RTSPTransport is how an rtsp input's media come: tcp (interleaved,
	// the default when empty) or udp.
	RTSPTransport string
	// Device is what a camera is asked for.
	Device DeviceConfig
	// Timeout bounds each blocking call on the input; 0 means
	// DefaultReadTimeout.
	Timeout time.Duration
}

// fpsPattern is a frame rate as v4l2 takes it: N, N.M or N/D.
var fpsPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?(/[0-9]+)?$`)

var registerDevices sync.Once

// Validate checks the configuration against the input's kind and this
// FFmpeg build. Its errors start with the name of the flag at fault
// (input, rtsp-transport, input-size, input-fps, input-pix-fmt).
func (c LiveConfig) Validate() error {
	network, device := IsNetworkInput(c.Input), IsDeviceInput(c.Input)
	if !network && !device {
		return fmt.Errorf("input %q: not a network URL (rtsp, rtsps, http, https, udp, srt) or a camera (/dev/videoN, v4l2:PATH)", c.Input)
	}
	if err := c.Size.Validate(); err != nil {
		return err
	}
	rtsp := network && strings.HasPrefix(strings.ToLower(c.Input), "rtsp")
	switch {
	case c.RTSPTransport != "" && c.RTSPTransport != "tcp" && c.RTSPTransport != "udp":
		return fmt.Errorf("rtsp-transport %q: want tcp or udp", c.RTSPTransport)
	case c.RTSPTransport != "" && !rtsp:
		return fmt.Errorf("rtsp-transport: only for an rtsp:// or rtsps:// input, not %s", redact(c.Input))
	}
	if network {
		scheme, _, _ := strings.Cut(strings.ToLower(c.Input), "://")
		if rtsp && astiav.FindInputFormat("rtsp") == nil {
			return fmt.Errorf("input %s: this FFmpeg build has no rtsp demuxer", redact(c.Input))
		}
		if !hasInputProtocol(networkSchemes[scheme]) {
			return fmt.Errorf("input %s: this FFmpeg build has no %s protocol", redact(c.Input), networkSchemes[scheme])
		}
		if c.Device != (DeviceConfig{}) {
			return fmt.Errorf("%s: only for a camera input (/dev/videoN or v4l2:PATH), not %s", c.Device.flag(), redact(c.Input))
		}
		return nil
	}
	if c.Device.Size != (media.Size{}) {
		if err := c.Device.Size.Validate(); err != nil {
			return fmt.Errorf("input-size %s: %w", c.Device.Size, err)
		}
	}
	if c.Device.FPS != "" && (!fpsPattern.MatchString(c.Device.FPS) || strings.Trim(c.Device.FPS, "0./") == "") {
		return fmt.Errorf("input-fps %q: want a positive rate, N, N.M or N/D frames a second", c.Device.FPS)
	}
	if p := c.Device.PixFmt; p != "" && astiav.FindPixelFormatByName(p) == astiav.PixelFormatNone && astiav.FindDecoderByName(p) == nil {
		return fmt.Errorf("input-pix-fmt %q: FFmpeg knows no pixel format or decoder of that name (yuyv422, mjpeg...)", p)
	}
	registerDevices.Do(astiav.RegisterAllDevices)
	if astiav.FindInputFormat(deviceFormat) == nil {
		return fmt.Errorf("input %s: this FFmpeg build has no %s input device", c.Input, deviceFormat)
	}
	return nil
}

// hasInputProtocol reports whether libavformat has the input protocol
// called name.
func hasInputProtocol(name string) bool {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	return C.hlsmark_has_input_protocol(cs) != 0
}

// demuxInput returns how the demuxer opens the input: its URL, input
// format and options.
func (c LiveConfig) demuxInput() demuxInput {
	in := demuxInput{URL: c.Input, Timeout: c.Timeout, Options: map[string]string{}}
	if in.Timeout == 0 {
		in.Timeout = DefaultReadTimeout
	}
	if IsDeviceInput(c.Input) {
		registerDevices.Do(astiav.RegisterAllDevices)
		in.URL, in.Format, in.Name = DevicePath(c.Input), deviceFormat, "camera "+DevicePath(c.Input)
		if c.Device.Size != (media.Size{}) {
			in.Options["video_size"] = c.Device.Size.String()
		}
		if c.Device.FPS != "" {
			in.Options["framerate"] = c.Device.FPS
		}
		if c.Device.PixFmt != "" {
			in.Options["input_format"] = c.Device.PixFmt
		}
		return in
	}
	in.Name = "input " + redact(c.Input)
	if strings.HasPrefix(strings.ToLower(c.Input), "rtsp") {
		in.Options["rtsp_transport"] = cmp.Or(c.RTSPTransport, "tcp")
	}
	return in
}

// redact returns the URL with its password, if any, replaced by xxxxx, so
// that logs and the API never show it.
func redact(input string) string {
	u, err := url.Parse(input)
	if err != nil {
		return input
	}
	return u.Redacted()
}
