package folder_test

import (
	"testing"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/buckettest"
	"github.com/sijill/sijill/archive/folder"
)

func TestConformance(t *testing.T) {
	buckettest.Test(t, func(t *testing.T) archive.Bucket {
		b, err := folder.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
}

func TestConformanceTwoHandles(t *testing.T) {
	buckettest.TestShared(t, func(t *testing.T) (archive.Bucket, archive.Bucket) {
		dir := t.TempDir()
		a, err := folder.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		b, err := folder.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	})
}
