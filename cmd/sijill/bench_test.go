package main

import (
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// patternReader yields size bytes of a PDF-looking stream without holding them.
type patternReader struct{ off, size int64 }

func (r *patternReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	n := int64(len(p))
	if rest := r.size - r.off; n > rest {
		n = rest
	}
	for i := range p[:n] {
		p[i] = byte((r.off + int64(i)) * 31 >> 7)
	}
	if r.off == 0 && n >= 8 {
		copy(p, "%PDF-1.7")
	}
	r.off += n
	return int(n), nil
}

// peakRSS reads the peak resident memory of a process, in MB.
func peakRSS(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, err := strconv.Atoi(strings.Fields(line)[1])
			return float64(kb) / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM")
}

// BenchmarkUpload500MB streams scans of 50 MB and then 500 MB through a real
// server process into MinIO and reports the server's peak memory after each:
// memory stays flat when the second peak is hardly above the first, whatever
// the size of the upload.
//
//	go test -run '^$' -bench Upload500MB -benchtime 1x ./cmd/sijill/
func BenchmarkUpload500MB(b *testing.B) {
	env := s3Env(minio.Config(fmt.Sprintf("sijill-test-bench%d", time.Now().UnixNano()%1e6)))
	env["SIJILL_MAX_UPLOAD_MB"] = "600"
	p := startProc(b, b.TempDir(), env)
	token := login(b, p.base, "admin", adminPassword).token
	for i := 0; i < b.N; i++ {
		upload(b, p.base, token, 50<<20+int64(i))
		small, err := peakRSS(p.cmd.Process.Pid)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		upload(b, p.base, token, 500<<20+int64(i))
		b.ReportMetric(500/time.Since(start).Seconds(), "MB/s")
		large, err := peakRSS(p.cmd.Process.Pid)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(small, "peak-RSS-MB-after-50MB")
		b.ReportMetric(large, "peak-RSS-MB-after-500MB")
	}
}

// upload registers an incoming letter with a generated scan of size bytes,
// streamed: the client holds none of it in memory either.
func upload(b *testing.B, base, token string, size int64) {
	b.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		mw.WriteField("record", `{"subject":"ملف ممسوح كبير"}`)
		fw, _ := mw.CreateFormFile("file", "كبير.pdf")
		io.Copy(fw, &patternReader{size: size})
		mw.Close()
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", base+"/api/v1/registers/incoming/records", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		b.Fatalf("upload of %d bytes: %d", size, resp.StatusCode)
	}
}
