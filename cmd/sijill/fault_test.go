package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/folder"
	"github.com/sijill/sijill/archive/s3"
	"github.com/sijill/sijill/archive/s3/s3test"
	"github.com/sijill/sijill/cmd/sijill-load/workload"
)

// The fault tests run the mixed load of cmd/sijill-load (creates, scan uploads,
// searches, prints from many clients) against a real server while something
// goes wrong, then run its end check: every acknowledged create stored exactly
// once, numbers gapless per register and year, every acknowledged upload reading
// back with its hash, and the index counting what storage holds.

// runLoad runs w for d and reports the figures in the test log.
func runLoad(t *testing.T, w *workload.Workload, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	w.Run(ctx)
	t.Logf("load for %s:\n%s", d, workload.FormatReport(w.Report(), w.Elapsed()))
}

// checkArchive runs the end check against store and fails the test on any problem.
func checkArchive(t *testing.T, w *workload.Workload, store *archive.Store) *workload.CheckResult {
	t.Helper()
	res, err := w.Check(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() {
		t.Fatal(res)
	}
	if res.Creates == 0 || res.Uploads == 0 {
		t.Fatalf("%s: nothing was acknowledged, so the check proves nothing", res)
	}
	t.Log(res)
	return res
}

func newStore(t *testing.T, b archive.Bucket) *archive.Store {
	return archive.NewStore(b, archive.Options{TempDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
}

func openS3Store(t *testing.T, cfg s3.Config) *archive.Store {
	t.Helper()
	b, err := s3.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return newStore(t, b)
}

func loginToken(t *testing.T, base string) string {
	t.Helper()
	tok, err := workload.Login(context.Background(), base, "admin", adminPassword)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestKillDuringLoadOnMinIO kills the server with SIGKILL in the middle of the
// mixed load on MinIO, restarts it on the same bucket and index directory, and
// checks that nothing acknowledged was lost, nothing doubled, no number skipped,
// and that search counts what storage holds.
func TestKillDuringLoadOnMinIO(t *testing.T) {
	cfg := minio.Config(s3test.BucketName())
	data := t.TempDir()
	p := startProc(t, data, s3Env(cfg))
	w := workload.New(workload.Options{Base: p.base, Token: loginToken(t, p.base), Clients: 20})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	time.Sleep(3 * time.Second)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait()
	cancel()
	<-done
	t.Logf("load until SIGKILL:\n%s", workload.FormatReport(w.Report(), w.Elapsed()))

	p2 := startProc(t, data, s3Env(cfg))
	w.SetServer(p2.base, loginToken(t, p2.base))
	checkArchive(t, w, openS3Store(t, cfg))

	// The register goes on at the next number after the restart.
	c := login(t, p2.base, "admin", adminPassword)
	var rec record
	if st := c.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "بعد إعادة التشغيل"}, nil, &rec); st != 201 {
		t.Fatalf("create after restart: %d", st)
	}
	var list struct{ Total int }
	c.call("GET", fmt.Sprintf("/api/v1/registers/incoming/records?year=%d", rec.Year), nil, nil, &list)
	if rec.Number != list.Total {
		t.Fatalf("after the restart the new entry got number %d, but the register holds %d entries", rec.Number, list.Total)
	}
}

// TestMinIOOutageDuringLoad stops MinIO for ten seconds while clients work.
// Clients retry with the same Idempotency-Key as a careful client does; the API
// answers 503 while storage is gone, the server recovers without a restart, and
// the end check finds nothing lost and nothing registered twice.
func TestMinIOOutageDuringLoad(t *testing.T) {
	srv := s3test.Start(t)
	cfg := srv.Config(s3test.BucketName())
	m := startMain(t, s3Env(cfg))
	base := m.Server.URL()
	w := workload.New(workload.Options{Base: base, Token: loginToken(t, base), Clients: 20, RetryFor: 50 * time.Second})

	ctx, cancel := context.WithTimeout(context.Background(), 14*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	c := login(t, base, "admin", adminPassword) // a login needs storage
	time.Sleep(2 * time.Second)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	outage := time.Now()
	time.Sleep(time.Second)
	var e apiError
	if st := c.call("POST", "/api/v1/registers/minutes/records", map[string]any{"subject": "محضر أثناء العطل"}, nil, &e); st != 503 || e.Code != archive.EUNAVAILABLE {
		t.Errorf("create while MinIO is down: %d %+v, want 503 %s", st, e, archive.EUNAVAILABLE)
	}
	resp, body := c.raw("GET", "/readyz", nil, "", nil)
	if resp.StatusCode != 503 {
		t.Errorf("/readyz while MinIO is down: %d %s, want 503", resp.StatusCode, body)
	}
	time.Sleep(10*time.Second - time.Since(outage))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	<-done
	t.Logf("load through a 10 s outage:\n%s", workload.FormatReport(w.Report(), w.Elapsed()))
	if resp, body := c.raw("GET", "/readyz", nil, "", nil); resp.StatusCode != 200 {
		t.Errorf("/readyz after MinIO returned: %d %s, want 200", resp.StatusCode, body)
	}
	retried, failed := 0, 0
	for _, r := range w.Report() {
		retried += r.Retries
		failed += r.ErrorCount()
		if r.ErrorCount() > 0 {
			t.Errorf("%d %s operations failed for good although clients retried for 50 s: %v", r.ErrorCount(), r.Op, r.Errors)
		}
	}
	if retried == 0 {
		t.Error("no operation had to be retried: the outage did not meet the load")
	}
	checkArchive(t, w, openS3Store(t, cfg))
}

// TestFullDiskLocalFolder keeps the local folder bucket on a tmpfs and fills
// it: creates and uploads answer 507 storage_full, what was acknowledged
// before stays intact, and once space is freed the server works again without a
// restart, with no number lost to the failed attempts.
//
// The tmpfs is far larger than the first load writes (two seconds of eight
// clients wrote 18 MB on an idle CI machine and filled a 20 MB one before the
// test filled it): the disk is full when the test says so, on any machine.
// A tmpfs takes memory only for what is written.
func TestFullDiskLocalFolder(t *testing.T) {
	data := t.TempDir()
	bucketDir := filepath.Join(data, "bucket")
	if err := os.MkdirAll(bucketDir, 0o750); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=512m", "tmpfs", bucketDir).CombinedOutput(); err != nil {
		t.Fatalf("mounting a 20 MB tmpfs for the bucket needs root (the tests run as root in CI and `make test`): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", bucketDir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", bucketDir, err, out)
		}
	})
	p := startProc(t, data, nil)
	w := workload.New(workload.Options{Base: p.base, Token: loginToken(t, p.base), Clients: 8})
	runLoad(t, w, 2*time.Second)
	for _, r := range w.Report() {
		if r.ErrorCount() > 0 {
			t.Fatalf("%d %s operations failed before the disk was filled: %v", r.ErrorCount(), r.Op, r.Errors)
		}
	}

	c := login(t, p.base, "admin", adminPassword) // a login writes its token to storage

	// Fill what is left of the file system.
	filler := filepath.Join(bucketDir, ".filler")
	fillDisk(t, filler)

	var e apiError
	if st := c.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "رسالة والقرص ممتلئ"},
		map[string]string{"Idempotency-Key": "full-disk-1"}, &e); st != 507 || e.Code != archive.ESTORAGEFULL {
		t.Errorf("create on a full disk: %d %+v, want 507 %s", st, e, archive.ESTORAGEFULL)
	}
	creates, _ := w.Acknowledged()
	resp, body := c.upload("/api/v1/records/"+creates[0].ID+"/attachments", map[string][]byte{"scan.png": workload.Pages(1, 7)[0]})
	if resp.StatusCode != 507 {
		t.Errorf("upload on a full disk: %d %s, want 507", resp.StatusCode, body)
	}
	// What is read still reads; a register book, which is rendered through a
	// temporary file, says the disk is full rather than failing inside.
	if resp, body := c.raw("GET", "/api/v1/records/"+creates[0].ID+"/print.pdf", nil, "", nil); resp.StatusCode != 200 {
		t.Errorf("a record's print on a full disk: %d %.200s, want 200", resp.StatusCode, body)
	}
	bookPath := fmt.Sprintf("/api/v1/registers/%s/%d/book.pdf", creates[0].Register, creates[0].Year)
	if resp, body := c.raw("GET", bookPath, nil, "", nil); resp.StatusCode != 507 || !bytes.Contains(body, []byte(archive.ESTORAGEFULL)) {
		t.Errorf("a register book on a full disk: %d %.200s, want 507 %s", resp.StatusCode, body, archive.ESTORAGEFULL)
	}
	// The load goes on against the full disk: everything fails, nothing breaks.
	full := workload.New(workload.Options{Base: p.base, Token: c.token, Clients: 4})
	runLoad(t, full, time.Second)

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	var rec record
	if st := c.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "رسالة والقرص ممتلئ"},
		map[string]string{"Idempotency-Key": "full-disk-1"}, &rec); st != 201 {
		t.Fatalf("the refused create, retried after space was freed: %d, want 201", st)
	}
	runLoad(t, w, 2*time.Second)
	b, err := folder.Open(bucketDir)
	if err != nil {
		t.Fatal(err)
	}
	checkArchive(t, w, newStore(t, b))
}

// fillDisk writes path until the file system is full.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			break
		}
	}
	// Smaller writes take the last blocks.
	for _, n := range []int{4096, 512, 1} {
		for {
			if _, err := f.Write(buf[:n]); err != nil {
				break
			}
		}
	}
}

// TestCorruptIndexRebuiltOnStart writes garbage over every file of the index
// while the server is stopped; on the next start the server moves the broken
// index aside, rebuilds it from storage, and search finds the records again.
func TestCorruptIndexRebuiltOnStart(t *testing.T) {
	data := t.TempDir()
	p := startProc(t, data, nil)
	c := login(t, p.base, "admin", adminPassword)
	subjects := []string{"دعوة لحضور اجتماع المجلس الوطني", "قرار بشأن الميزانية السنوية", "محضر اجتماع اللجنة التنفيذية"}
	for _, s := range subjects {
		if st := c.call("POST", "/api/v1/registers/decisions/records", map[string]any{"subject": s}, nil, nil); st != 201 {
			t.Fatalf("create: %d", st)
		}
	}
	stopProc(t, p)

	dir := filepath.Join(data, "index")
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		garbage := make([]byte, 4096)
		rand.Read(garbage)
		return os.WriteFile(path, garbage, 0o600)
	})
	if err != nil || n == 0 {
		t.Fatalf("corrupting %s: %d files, %v", dir, n, err)
	}

	p2 := startProc(t, data, nil)
	c2 := login(t, p2.base, "admin", adminPassword)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var health struct{ Index string }
		c2.call("GET", "/healthz", nil, nil, &health)
		if health.Index == "ready" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("index state %q 30 s after start; log:\n%s", health.Index, p2.out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, tc := range []struct {
		q    string
		want int
	}{{"اجتماع", 2}, {"الميزانية", 1}, {"", 3}} {
		var res struct {
			Total int
			Hits  []struct{ Subject string }
		}
		if st := c2.call("GET", "/api/v1/search?q="+urlQuery(tc.q), nil, nil, &res); st != 200 || res.Total != tc.want {
			t.Errorf("search %q after the corrupt index was rebuilt: %d, %d hits, want %d", tc.q, st, res.Total, tc.want)
		}
	}
	aside, _ := filepath.Glob(dir + ".*.corrupt-*")
	if len(aside) != 3 {
		t.Errorf("the corrupt index (its three parts: two shards of readers' records and the confidential one) was not kept aside for inspection: %v\n%s", aside, p2.out)
	}
}

// stopProc sends SIGTERM and requires a clean exit within 35 s.
func stopProc(t *testing.T, p *proc) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- p.wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("sijill exited with %v after SIGTERM; log:\n%s", err, p.out)
		}
	case <-time.After(35 * time.Second):
		t.Fatalf("sijill still running 35 s after SIGTERM; log:\n%s", p.out)
	}
}

// TestGracefulShutdownDrainsUpload sends SIGTERM while a large upload is still
// arriving: the upload completes with 201 and its file reads back, new
// connections are refused meanwhile, and the process exits 0.
func TestGracefulShutdownDrainsUpload(t *testing.T) {
	data := t.TempDir()
	p := startProc(t, data, nil)
	c := login(t, p.base, "admin", adminPassword)
	var rec record
	if st := c.call("POST", "/api/v1/registers/incoming/records", map[string]any{"subject": "رسالة بملف كبير"}, nil, &rec); st != 201 {
		t.Fatalf("create: %d", st)
	}

	// A 24 MB scan sent in 1 MB pieces, slowly, through a pipe.
	scan := append(append([]byte{}, pdf...), bytes.Repeat([]byte("scanned page "), 24<<20/13)...)
	sum := sha256.Sum256(scan)
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	sent := make(chan int, 64)
	go func() {
		fw, _ := mw.CreateFormFile("file", "large.pdf")
		for off := 0; off < len(scan); off += 1 << 20 {
			if _, err := fw.Write(scan[off:min(off+1<<20, len(scan))]); err != nil {
				pw.CloseWithError(err)
				return
			}
			sent <- off
			time.Sleep(100 * time.Millisecond)
		}
		pw.CloseWithError(mw.Close())
		close(sent)
	}()
	req, _ := http.NewRequest("POST", p.base+"/api/v1/records/"+rec.ID+"/attachments", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+c.token)
	type answer struct {
		status int
		body   []byte
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		answered <- answer{resp.StatusCode, b, err}
	}()
	for range 3 { // the upload is well under way
		<-sent
	}
	// A connection on which nothing was ever sent, as a browser's preconnect
	// or a client's abandoned request leaves: it must not hold the shutdown.
	idle, err := net.Dial("tcp", strings.TrimPrefix(p.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	time.Sleep(200 * time.Millisecond) // accepted before the listener closes
	exited := make(chan error, 1)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	go func() { exited <- p.wait() }()
	time.Sleep(300 * time.Millisecond)
	if resp, err := http.Get(p.base + "/healthz"); err == nil {
		resp.Body.Close()
		t.Errorf("a new connection was served %d during the shutdown", resp.StatusCode)
	}
	select {
	case err := <-exited:
		t.Fatalf("sijill exited (%v) with an upload in flight; log:\n%s", err, p.out)
	default:
	}
	a := <-answered
	if a.err != nil || a.status != 201 {
		t.Fatalf("the upload in flight at SIGTERM: %d %s %v, want 201; log:\n%s", a.status, a.body, a.err, p.out)
	}
	var up struct {
		Attachments []struct{ SHA256 string }
	}
	if json.Unmarshal(a.body, &up) != nil || len(up.Attachments) != 1 || up.Attachments[0].SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("upload answer %s", a.body)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("sijill exited with %v after draining, want status 0; log:\n%s", err, p.out)
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("sijill still running 2 minutes after the upload completed; log:\n%s", p.out)
	}

	// The drained upload is stored: the file reads back after a restart.
	p2 := startProc(t, data, nil)
	c2 := login(t, p2.base, "admin", adminPassword)
	resp, got := c2.raw("GET", "/api/v1/records/"+rec.ID+"/attachments/"+up.Attachments[0].SHA256, nil, "", nil)
	if resp.StatusCode != 200 || !bytes.Equal(got, scan) {
		t.Fatalf("the drained upload after restart: %d, %d bytes, want %d", resp.StatusCode, len(got), len(scan))
	}
	if !strings.Contains(p.out.String(), "shutting down") {
		t.Errorf("the log does not say the server is shutting down:\n%s", p.out)
	}
}

// TestRefusedUploadBodyIsNotARequest sends, on one raw connection, a large
// upload that is refused before its body is read (a wrong token), whose bytes
// look like further requests. The server must answer once: were the body's
// bytes parsed as requests, a proxy sharing upstream connections between users
// would hand one user the answers to requests smuggled in by another.
func TestRefusedUploadBodyIsNotARequest(t *testing.T) {
	m := startMain(t, nil)
	smuggled := "GET /healthz HTTP/1.1\r\nHost: sijill\r\n\r\n"
	body := strings.Repeat(smuggled, 6<<20/len(smuggled)) // above the 4 MB kept in memory: streamed
	conn, err := net.Dial("tcp", m.Server.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	go func() {
		fmt.Fprintf(conn, "POST /api/v1/records/incoming-2026-1/attachments HTTP/1.1\r\nHost: sijill\r\n"+
			"Authorization: Bearer wrong\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: %d\r\n\r\n", len(body))
		io.WriteString(conn, body)
	}()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("upload with a wrong token: %d, want 401", resp.StatusCode)
	}
	conn.SetReadDeadline(time.Now().Add(time.Second))
	if extra, _ := io.ReadAll(br); len(extra) > 0 {
		t.Fatalf("answers to the body's bytes followed the 401:\n%.400s", extra)
	}
}
