// Package bucket copies a stream's segments and playlist to S3-compatible
// object storage (AWS S3, Cloudflare R2, MinIO, SeaweedFS, Ceph) through
// minio-go, behind the disk: the folder stays the durable record, and the
// bucket follows it.
//
// A Mirror keeps one stream's objects under PREFIX/STREAM/ in the order a
// reader of the bucket needs (Owncast's): each segment is uploaded before
// any playlist that lists it, so the playlist in the bucket never names a
// missing object; a segment's object is deleted only once the playlist in
// the bucket no longer lists it, after the playlist deleted its file. The
// playlist keeps a segment's file until its upload is done (Mirror.Hold),
// and a Mirror made again after a restart lists the bucket and uploads
// what is missing. Failed requests are retried with exponential backoff;
// while uploads are more than a segment duration behind, the lag is
// reported (Config.OnLag) and logged.
package bucket
