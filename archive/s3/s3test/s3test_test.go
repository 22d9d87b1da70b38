package s3test_test

import (
	"strings"
	"testing"

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

// TestStopStart checks that a restarted server answers on the same endpoint.
func TestStopStart(t *testing.T) {
	srv := s3test.Start(t)
	endpoint := srv.Endpoint()
	if err := srv.Ping(t.Context()); err != nil {
		t.Fatalf("running server: %v", err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Ping(t.Context()); err == nil {
		t.Error("stopped server still answers")
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Ping(t.Context()); err != nil || srv.Endpoint() != endpoint {
		t.Errorf("restarted server: ping %v, endpoint %s (was %s)", err, srv.Endpoint(), endpoint)
	}
}
