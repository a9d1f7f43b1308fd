package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/hlsmark/hlsmark/playlist/bucket"
)

// casesSegments are --segments and the --s3-... flags, with the
// environment, and the store they name (nil: the disk only) or the flag
// a usage error names.
var casesSegments = []struct {
	name    string
	args    []string
	env     map[string]string
	want    *bucket.Config
	wantErr string
}{
	{name: "disk only"},
	{name: "flags", args: []string{"--segments", "s3://media/live/", "--s3-endpoint", "http://127.0.0.1:8333", "--s3-region", "eu-west-1", "--s3-path-style"},
		env:  map[string]string{"AWS_ENDPOINT_URL_S3": "https://elsewhere.example", "AWS_REGION": "us-east-2"},
		want: &bucket.Config{Location: bucket.Location{Bucket: "media", Prefix: "live/"}, Endpoint: "http://127.0.0.1:8333", Region: "eu-west-1", PathStyle: true}},
	{name: "environment", args: []string{"--segments", "s3://media"},
		env: map[string]string{"AWS_ENDPOINT_URL_S3": "https://s3.example", "AWS_ENDPOINT_URL": "https://all.example", "AWS_DEFAULT_REGION": "auto",
			"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token"},
		want: &bucket.Config{Location: bucket.Location{Bucket: "media"}, Endpoint: "https://s3.example", Region: "auto",
			AccessKey: "id", SecretKey: "secret", SessionToken: "token"}},
	{name: "AWS by default", args: []string{"--segments", "s3://media/a/b"},
		want: &bucket.Config{Location: bucket.Location{Bucket: "media", Prefix: "a/b/"}, Endpoint: "https://s3.amazonaws.com"}},
	{name: "not s3", args: []string{"--segments", "https://media/live"}, wantErr: "--segments"},
	{name: "bucket too short", args: []string{"--segments", "s3://me/live"}, wantErr: "--segments"},
	{name: "bucket with a port", args: []string{"--segments", "s3://media:9000/live"}, wantErr: "--segments"},
	{name: "endpoint not http", args: []string{"--segments", "s3://media", "--s3-endpoint", "ftp://h"}, wantErr: "--s3-endpoint"},
	{name: "endpoint with a path", args: []string{"--segments", "s3://media", "--s3-endpoint", "http://h/x"}, wantErr: "--s3-endpoint"},
	{name: "region without segments", args: []string{"--s3-region", "eu-west-1"}, wantErr: "--s3-region"},
	{name: "half the keys", args: []string{"--segments", "s3://media"}, env: map[string]string{"AWS_ACCESS_KEY_ID": "id"}, wantErr: "AWS_SECRET_ACCESS_KEY"},
}

func TestSegmentsFlags(t *testing.T) {
	for _, c := range casesSegments {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseServe(c.args, func(k string) (string, bool) { v, ok := c.env[k]; return v, ok })
			if c.wantErr != "" {
				var usage usageError
				if !errors.As(err, &usage) || !strings.Contains(err.Error(), c.wantErr) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("error %v; want a one-line usage error naming %s", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (got.Segments == nil) != (c.want == nil) || (c.want != nil && *got.Segments != *c.want) {
				t.Fatalf("store %+v; want %+v", got.Segments, c.want)
			}
		})
	}
}

// TestConfigFileSegments reads segments and the s3_... keys of a config
// file, server-wide settings like their flags; a bad one is refused
// naming the line and key.
func TestConfigFileSegments(t *testing.T) {
	path := writeConfig(t, "segments: s3://media/live\ns3_endpoint: http://127.0.0.1:8333\ns3_path_style: true\nstreams:\n  - name: cam\n")
	c, err := parseServe([]string{"--config", path}, noEnv)
	want := bucket.Config{Location: bucket.Location{Bucket: "media", Prefix: "live/"}, Endpoint: "http://127.0.0.1:8333", PathStyle: true}
	if err != nil || c.Segments == nil || *c.Segments != want {
		t.Fatalf("store %+v, %v; want %+v", c.Segments, err, want)
	}
	bad := writeConfig(t, "streams:\n  - name: cam\nsegments: s3:/media\n")
	if _, err := parseServe([]string{"--config", bad}, noEnv); err == nil || !strings.Contains(err.Error(), ":3: key segments") {
		t.Errorf("a bad segments URL in the file: %v, want the line and key named", err)
	}
}

// TestSegmentsBadFlagExits runs serve with a --segments that is not
// s3://BUCKET/PREFIX: exit 2, one line naming the flag.
func TestSegmentsBadFlagExits(t *testing.T) {
	r := runCLI(t, t.TempDir(), "serve", "--addr", unusedAddr(t), "--data", t.TempDir(), "--segments", "media/live")
	if r.code != 2 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "--segments") {
		t.Fatalf("exit %d, stderr %q; want 2 and one line naming --segments", r.code, r.stderr)
	}
}

// TestSegmentsStoreUnreachable starts serve with --s3-endpoint naming a
// port nothing listens on: it fails at once (exit 1), on one line naming
// the flag.
func TestSegmentsStoreUnreachable(t *testing.T) {
	store := unusedAddr(t)
	r := runCLI(t, t.TempDir(), append([]string{"serve", "--addr", unusedAddr(t), "--data", t.TempDir(),
		"--segments", "s3://media/live", "--s3-endpoint", "http://" + store, "--s3-path-style"}, fastStream...)...)
	if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "--segments") || !strings.Contains(r.stderr, store) {
		t.Fatalf("exit %d, stderr %q; want 1 and one line naming --segments and %s", r.code, r.stderr, store)
	}
}
