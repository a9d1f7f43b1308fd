package bucket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
)

// ErrNoObject is returned by Get for a key the bucket does not hold.
var ErrNoObject = errors.New("no such object")

// Object is an object read back from the store, with the headers it was
// uploaded with.
type Object struct {
	Data         []byte
	ContentType  string
	CacheControl string
	Modified     time.Time
}

// Get reads the object called name of stream, as the Mirror put it
// (PREFIX/STREAM/NAME); ErrNoObject (wrapped) says it is not there.
//
// It makes one GET, its headers and body one version of the object. (The
// Client's GetObject asks for the headers with a HEAD, then for the body
// with a GET If-Match their ETag, which fails when the playlist is
// replaced between the two: under many readers, every upload.)
func (s *Store) Get(ctx context.Context, stream, name string) (Object, error) {
	key := s.loc.Prefix + stream + "/" + name
	body, info, _, err := minio.Core{Client: s.client}.GetObject(ctx, s.loc.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return Object{}, fmt.Errorf("bucket: get %s: %w", key, ErrNoObject)
		}
		return Object{}, fmt.Errorf("bucket: get %s: %w", key, err)
	}
	defer body.Close()
	data, err := io.ReadAll(body)
	if err != nil {
		return Object{}, fmt.Errorf("bucket: get %s: %w", key, err)
	}
	return Object{Data: data, ContentType: info.ContentType, CacheControl: info.Metadata.Get("Cache-Control"), Modified: info.LastModified}, nil
}

// Streams returns the names of the streams the bucket holds: the
// "folders" under the prefix, each a stream's PREFIX/STREAM/.
func (s *Store) Streams(ctx context.Context) ([]string, error) {
	var names []string
	for obj := range s.client.ListObjects(ctx, s.loc.Bucket, minio.ListObjectsOptions{Prefix: s.loc.Prefix}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("bucket: list %s: %w", s.loc, obj.Err)
		}
		if name, ok := strings.CutSuffix(strings.TrimPrefix(obj.Key, s.loc.Prefix), "/"); ok && name != "" {
			names = append(names, name)
		}
	}
	return names, nil
}
