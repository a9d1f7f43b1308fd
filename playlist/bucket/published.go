package bucket

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/grafov/m3u8"
	"github.com/minio/minio-go/v7"

	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/playlist"
)

// Published is what a stream's playlist in the bucket says of the
// stream, as readers of the bucket see it: where a node taking the stream
// over goes on from (playlist.GoOn).
type Published struct {
	// Next follows the last segment the playlist lists, and every
	// segment object the bucket holds (one uploaded before the playlist
	// that would have listed it).
	Next media.Seq
	// DiscontinuitySeq counts the discontinuities before the first
	// segment after the listed ones: EXT-X-DISCONTINUITY-SEQUENCE plus
	// the EXT-X-DISCONTINUITY tags listed.
	DiscontinuitySeq uint64
	// Target is EXT-X-TARGETDURATION, in seconds.
	Target int
	// Epoch is the stream's epoch, the wall-clock time of its PTS 0, as
	// the playlist carries it; zero if it carries none (an upload by a
	// version before epochs were uploaded).
	Epoch time.Time
}

// Published reads the playlist of the stream called name from the
// bucket; false if the bucket holds none.
func (s *Store) Published(ctx context.Context, name string) (Published, bool, error) {
	key := s.loc.Prefix + name + "/" + playlist.FileName
	obj, err := s.client.GetObject(ctx, s.loc.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return Published{}, false, fmt.Errorf("bucket: get %s: %w", key, err)
	}
	defer obj.Close()
	body, err := io.ReadAll(obj)
	if minio.ToErrorResponse(err).Code == "NoSuchKey" {
		return Published{}, false, nil
	}
	if err != nil {
		return Published{}, false, fmt.Errorf("bucket: get %s: %w", key, err)
	}
	info, err := obj.Stat()
	if err != nil {
		return Published{}, false, fmt.Errorf("bucket: get %s: %w", key, err)
	}
	epoch, err := epochOf(info)
	if err != nil && !errors.Is(err, ErrNoEpoch) {
		return Published{}, false, fmt.Errorf("bucket: %s: %w", key, err)
	}
	pl, kind, err := m3u8.DecodeFrom(bytes.NewReader(body), false)
	if err != nil || kind != m3u8.MEDIA {
		return Published{}, false, fmt.Errorf("bucket: %s is not a media playlist: %v", key, err)
	}
	mp := pl.(*m3u8.MediaPlaylist)
	p := Published{Next: media.Seq(mp.SeqNo), DiscontinuitySeq: mp.DiscontinuitySeq, Target: int(math.Ceil(mp.TargetDuration)), Epoch: epoch}
	for _, seg := range mp.GetAllSegments() {
		p.Next++
		if seg.Discontinuity {
			p.DiscontinuitySeq++
		}
	}
	for obj := range s.client.ListObjects(ctx, s.loc.Bucket, minio.ListObjectsOptions{Prefix: s.loc.Prefix + name + "/"}) {
		if obj.Err != nil {
			return Published{}, false, fmt.Errorf("bucket: list %s: %w", s.loc.Prefix+name+"/", obj.Err)
		}
		if seq, ok := media.ParseSegmentName(strings.TrimPrefix(obj.Key, s.loc.Prefix+name+"/")); ok {
			p.Next = max(p.Next, seq+1)
		}
	}
	return p, true, nil
}
