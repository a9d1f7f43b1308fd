#!/usr/bin/env python3
"""A simulation that streams its own frames through hlsmark, with a marker
on the exact frame where its event starts.

It renders a falling ball with numpy and writes every frame to standard
output in hlsmark's `framed` format: an 8-byte big-endian signed PTS in
90 kHz ticks (the simulation's own clock), then the picture as rgb24. When
the ball first touches the floor it turns red, and the script posts a
marker at that frame's PTS to hlsmark's API. Pipe it into hlsmark:

    python3 examples/python/bouncing_ball.py | hlsmark serve --input - \\
        --input-format framed --pix-fmt rgb24 --size 320x240 --fps 25

Debian's python3 and python3-numpy are all it needs. The marker's answer
is printed on standard error as one JSON line, standard output being the
video.
"""

import argparse
import json
import struct
import sys
import time
import urllib.request

import numpy as np

HZ = 90000  # MPEG-TS ticks a second: the unit of every PTS


def render(width, height, y, radius, red):
    """Returns one rgb24 frame: a grey floor and a ball centred at row y."""
    frame = np.zeros((height, width, 3), dtype=np.uint8)
    frame[:, :] = (20, 30, 60)
    frame[height - 8 :, :] = (90, 90, 90)
    rows, cols = np.ogrid[:height, :width]
    ball = (rows - y) ** 2 + (cols - width // 2) ** 2 <= radius**2
    frame[ball] = (230, 30, 30) if red else (240, 240, 240)
    return frame


def post_marker(url, stream, label, pts):
    """Posts a marker at pts and returns hlsmark's answer."""
    body = json.dumps({"label": label, "pts": pts}).encode()
    request = urllib.request.Request(
        f"{url}/api/streams/{stream}/markers",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="320x240", help="frame size, WxH (as hlsmark's --size)")
    parser.add_argument("--fps", type=int, default=25, help="frames a second (as hlsmark's --fps)")
    parser.add_argument("--seconds", type=float, default=10, help="how long the simulation runs")
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="hlsmark's address")
    parser.add_argument("--stream", default="demo", help="hlsmark's stream name")
    parser.add_argument("--fast", action="store_true", help="write frames as fast as hlsmark reads them, not in real time")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))

    out = sys.stdout.buffer
    step = HZ // args.fps  # ticks between frames: the simulation's clock
    frames = int(args.seconds * args.fps)
    floor, radius = height - 8, height // 10
    event = None  # (frame index, PTS) of the frame where the ball lands
    start = time.monotonic()
    for n in range(frames):
        pts = HZ + n * step  # the stream starts 1 s into the timeline
        t = n / args.fps
        y = min(radius + 0.5 * 120 * t * t, floor - radius)  # falling at 120 px/s²
        landed = y >= floor - radius
        frame = render(width, height, int(y), radius, landed)
        out.write(struct.pack(">q", pts))
        out.write(frame.tobytes())
        out.flush()
        if landed and event is None:
            event = (n, pts)
        elif event is not None and n == event[0] + 1:
            # hlsmark has read the landing frame's PTS, so it takes a
            # marker there: a pipe holds 64 KiB, so with frames of 32 KiB or
            # more, writing this one returned only once hlsmark had read
            # past the landing frame's header.
            answer = post_marker(args.url, args.stream, "ball lands", event[1])
            print(json.dumps({"frame": event[0], "pts": event[1], "marker": answer}), file=sys.stderr, flush=True)
        if not args.fast:
            time.sleep(max(0.0, start + (n + 1) / args.fps - time.monotonic()))


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:  # hlsmark stopped reading
        sys.exit(1)
