package main

import (
	"go/build"
	"slices"
	"strings"
	"testing"
)

// TestNoLibavImport reads the imports of this command's (non-test) source
// files: libav's bindings stay behind the packages that need them, so
// nothing here imports go-astiav.
func TestNoLibavImport(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	// The list is the real one: it holds the package that wraps libav.
	if !slices.Contains(pkg.Imports, "github.com/hlsmark/hlsmark/pipeline") {
		t.Fatalf("imports %q: the pipeline package is missing, the list cannot be right", pkg.Imports)
	}
	for _, imp := range pkg.Imports {
		if strings.HasPrefix(imp, "github.com/asticode/go-astiav") {
			t.Errorf("cmd/hlsmark imports %s; reach libav through the pipeline package", imp)
		}
	}
}
