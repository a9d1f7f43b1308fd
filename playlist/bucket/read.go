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
func (s *Store) Get(ctx context.Context, stream, name string) (Object, error) {
	key := s.loc.Prefix + stream + "/" + name
	obj, err := s.client.GetObject(ctx, s.loc.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return Object{}, fmt.Errorf("bucket: get %s: %w", key, err)
	}
	defer obj.Close()
	info, err := obj.Stat()
	if err != nil {
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return Object{}, fmt.Errorf("bucket: get %s: %w", key, ErrNoObject)
		}
		return Object{}, fmt.Errorf("bucket: get %s: %w", key, err)
	}
	data, err := io.ReadAll(obj)
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
