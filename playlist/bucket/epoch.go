package bucket

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/hlsmark/hlsmark/playlist"
)

// epochKey is the user metadata of a stream's playlist object that holds
// the stream's epoch, the wall-clock time of its PTS 0, in RFC 3339 with
// nanoseconds (S3 sends it as the header x-amz-meta-hlsmark-epoch).
const epochKey = "Hlsmark-Epoch"

// ErrNoEpoch is returned by Epoch for a stream whose playlist does not
// carry its epoch (or is not there).
var ErrNoEpoch = errors.New("the stream's playlist carries no epoch")

// epochMeta returns the playlist's user metadata for epoch; none for the
// zero time.
func epochMeta(epoch time.Time) map[string]string {
	if epoch.IsZero() {
		return nil
	}
	return map[string]string{epochKey: epoch.UTC().Format(time.RFC3339Nano)}
}

// Epoch returns the epoch of stream as its playlist carries it.
func (s *Store) Epoch(ctx context.Context, stream string) (time.Time, error) {
	key := s.loc.Prefix + stream + "/" + playlist.FileName
	info, err := s.client.StatObject(ctx, s.loc.Bucket, key, minio.StatObjectOptions{})
	if minio.ToErrorResponse(err).Code == "NoSuchKey" {
		return time.Time{}, fmt.Errorf("bucket: %s: %w", key, ErrNoEpoch)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("bucket: stat %s: %w", key, err)
	}
	t, err := epochOf(info)
	if err != nil {
		return time.Time{}, fmt.Errorf("bucket: %s: %w", key, err)
	}
	return t, nil
}

// epochOf reads the epoch a playlist object carries.
func epochOf(info minio.ObjectInfo) (time.Time, error) {
	raw, ok := info.UserMetadata[epochKey]
	if !ok {
		return time.Time{}, ErrNoEpoch
	}
	t, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		return time.Time{}, fmt.Errorf("epoch %q: %w", raw, err)
	}
	return t, nil
}
