// Package docs holds documents the server serves as they are kept in the
// repository, so the file a reader sees is the one clients get.
package docs

import _ "embed"

// OpenAPI is the OpenAPI 3.1 document of hlsmark's HTTP interface,
// served at /api/openapi.json.
//
//go:embed openapi.json
var OpenAPI []byte
