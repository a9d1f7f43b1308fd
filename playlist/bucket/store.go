package bucket

import (
	"context"
	"fmt"
	"net/url"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Config is how to reach the object store.
type Config struct {
	Location Location
	// Endpoint is the store's URL, http:// or https://, such as
	// https://s3.eu-west-1.amazonaws.com or http://127.0.0.1:8333.
	Endpoint string
	// Region is the bucket's region; empty lets the client ask the store.
	Region string
	// PathStyle addresses the bucket in the path (ENDPOINT/BUCKET/KEY), as
	// most self-hosted stores want, rather than as a host name
	// (BUCKET.ENDPOINT/KEY).
	PathStyle bool
	// AccessKey and SecretKey sign the requests (SessionToken too, for
	// temporary credentials); empty keys send them unsigned, for a store
	// that allows anonymous writes.
	AccessKey, SecretKey, SessionToken string
}

// Store is a bucket streams are mirrored to, shared by a server's streams.
type Store struct {
	client *minio.Client
	loc    Location
}

// CheckEndpoint checks that s is an endpoint URL, http(s)://HOST[:PORT].
func CheckEndpoint(s string) error {
	_, err := parseEndpoint(s)
	return err
}

func parseEndpoint(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.User != nil || u.RawQuery != "" {
		return nil, fmt.Errorf("%q: want http://HOST[:PORT] or https://HOST[:PORT]", s)
	}
	return u, nil
}

// Open returns the store cfg names. It makes no request: Check does.
func Open(cfg Config) (*Store, error) {
	u, err := parseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("bucket: endpoint %w", err)
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	creds := credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken)
	c, err := minio.New(u.Host, &minio.Options{Creds: creds, Secure: u.Scheme == "https", Region: cfg.Region, BucketLookup: lookup,
		MaxRetries: 1, // the Mirror retries, with its own backoff
	})
	if err != nil {
		return nil, fmt.Errorf("bucket: %w", err)
	}
	return &Store{client: c, loc: cfg.Location}, nil
}

// Check asks the store whether the bucket exists.
func (s *Store) Check(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.loc.Bucket)
	if err != nil {
		return fmt.Errorf("bucket %s: %w", s.loc.Bucket, err)
	}
	if !ok {
		return fmt.Errorf("bucket %s: no such bucket", s.loc.Bucket)
	}
	return nil
}

// Location returns where the store puts streams.
func (s *Store) Location() Location { return s.loc }
