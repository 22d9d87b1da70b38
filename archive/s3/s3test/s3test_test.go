package s3test_test

import (
	"strings"
	"testing"

	"github.com/sijill/sijill/archive/s3"
	"github.com/sijill/sijill/archive/s3/s3test"
)

// TestMissingBinary checks that a missing MinIO points the user at `make test`.
func TestMissingBinary(t *testing.T) {
	t.Setenv(s3test.EnvBinary, "/nonexistent/minio")
	_, err := s3test.Binary()
	if err == nil || !strings.Contains(err.Error(), "make test") {
		t.Errorf("Binary() with a wrong %s: err = %v, want one that says to run `make test`", s3test.EnvBinary, err)
	}
}

// TestStopStart checks that a server stopped or killed comes back on the same
// endpoint with its data and credentials.
func TestStopStart(t *testing.T) {
	srv := s3test.Start(t)
	endpoint := srv.Endpoint()
	cfg := srv.Config(s3test.BucketName())
	b, err := s3.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Create(t.Context(), "kept", strings.NewReader("data"), 4); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		stop func() error
	}{{"Stop", srv.Stop}, {"Kill", srv.Kill}} {
		if err := tc.stop(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if err := srv.Ping(t.Context()); err == nil {
			t.Errorf("after %s the server still answers", tc.name)
		}
		if err := srv.Start(); err != nil {
			t.Fatalf("Start after %s: %v", tc.name, err)
		}
		if srv.Endpoint() != endpoint {
			t.Errorf("after %s the endpoint is %s, was %s", tc.name, srv.Endpoint(), endpoint)
		}
		if info, err := b.Stat(t.Context(), "kept"); err != nil || info.Size != 4 {
			t.Errorf("after %s and Start: Stat = %+v, %v; want the object written before", tc.name, info, err)
		}
	}
}
