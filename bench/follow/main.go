// Command follow measures how Sijill processes sharing one bucket keep their
// indexes in step (make bench-follow), on a real MinIO with real sijill
// server processes:
//
//   - follow lag: how long after a write is acknowledged by one process the
//     other processes find it by search, while the load harness's clients
//     work on all of them (p50/p99, against the 2 s target);
//
//   - a new process's rebuild: records indexed per second and the peak memory
//     of the process, for an archive of -records records (with attachment
//     text), beside the time a bare minio-go client takes to read the same
//     objects (sixteen GETs at once) in the same run.
//
//     go run ./bench/follow [-processes 3] [-lag 200] [-records 9200]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/s3"
	"github.com/sijill/sijill/archive/s3/s3test"
	"github.com/sijill/sijill/bench/internal/bare"
	"github.com/sijill/sijill/cmd/sijill-load/workload"
)

func main() {
	processes := flag.Int("processes", 3, "servers sharing the bucket")
	lag := flag.Int("lag", 200, "writes whose follow lag is measured (0: only the rebuild)")
	clients := flag.Int("clients", 6, "load harness clients working meanwhile")
	records := flag.Int("records", 9200, "records of the archive a new process rebuilds its index from")
	flag.Parse()
	if err := run(*processes, *lag, *clients, *records); err != nil {
		fmt.Fprintln(os.Stderr, "bench-follow:", err)
		os.Exit(1)
	}
}

const password = "bench follow password"

func run(processes, lagN, clients, nrec int) error {
	ctx := context.Background()
	mio, stop, err := s3test.StartMain()
	if err != nil {
		return err
	}
	defer stop()
	tmp, err := os.MkdirTemp("", "sijill-bench-follow-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "sijill")
	fmt.Println("building sijill …")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/sijill/sijill/cmd/sijill").CombinedOutput(); err != nil {
		return fmt.Errorf("build: %v\n%s", err, out)
	}

	if lagN > 0 {
		if err := followLag(bin, tmp, mio, processes, lagN, clients); err != nil {
			return err
		}
	}
	return rebuild(ctx, bin, tmp, mio, nrec)
}

func followLag(bin, tmp string, mio *s3test.Server, processes, lagN, clients int) error {
	ctx := context.Background()
	// Follow lag under load.
	cfg := mio.Config(s3test.BucketName())
	var servers []*server
	for i := range processes {
		s, err := start(bin, filepath.Join(tmp, fmt.Sprintf("lag-%d", i)), cfg)
		if err != nil {
			return err
		}
		defer s.stop()
		servers = append(servers, s)
	}
	targets := make([]workload.Server, len(servers))
	for i, s := range servers {
		targets[i] = workload.Server{Base: s.base, Token: s.token}
	}
	w := workload.New(workload.Options{Base: targets[0].Base, Token: targets[0].Token, More: targets[1:], Clients: clients})
	loadCtx, stopLoad := context.WithCancel(ctx)
	loadDone := make(chan struct{})
	go func() { defer close(loadDone); w.Run(loadCtx) }()
	time.Sleep(2 * time.Second)
	lags, err := measureLag(servers, lagN)
	stopLoad()
	<-loadDone
	if err != nil {
		return err
	}
	slices.Sort(lags)
	q := func(p float64) time.Duration { return lags[min(len(lags)-1, int(p*float64(len(lags))))] }
	fmt.Printf("follow lag of %d writes seen by %d other processes each (%d processes, %d load clients at %.0f ops/s): p50 %v, p99 %v, max %v — p99 is %.2f of the 2 s target\n",
		lagN, processes-1, processes, clients, opsPerSec(w), q(0.5).Round(time.Millisecond), q(0.99).Round(time.Millisecond),
		lags[len(lags)-1].Round(time.Millisecond), q(0.99).Seconds()/2)
	return nil
}

// rebuild measures a new process building its index from an archive of nrec
// records.
func rebuild(ctx context.Context, bin, tmp string, mio *s3test.Server, nrec int) error {
	cfg := mio.Config(s3test.BucketName())
	bucket, err := s3.Open(ctx, cfg)
	if err != nil {
		return err
	}
	store := archive.NewStore(bucket, archive.Options{TempDir: tmp, Logger: slog.New(slog.DiscardHandler)})
	fmt.Printf("seeding %d records (a third with the text of a scanned attachment) …\n", nrec)
	if err := seed(ctx, store, nrec); err != nil {
		return err
	}
	bareTime, objects, _, err := bare.Read(ctx, cfg, "records/", "text/")
	if err != nil {
		return err
	}
	began := time.Now()
	s, err := start(bin, filepath.Join(tmp, "new"), cfg)
	if err != nil {
		return err
	}
	took := time.Since(began)
	rss, err := peakRSS(s.cmd.Process.Pid)
	s.stop()
	if err != nil {
		return err
	}
	rate := float64(nrec) / took.Seconds()
	fmt.Printf("new process: ready after %v with %d records indexed: %.0f records/s (target 1,500), peak RSS %.0f MB (target 400)\n",
		took.Round(time.Millisecond), nrec, rate, rss)
	fmt.Printf("bare minio-go reading the same %d objects (16 at once): %v — the rebuild takes %.2f× that\n",
		objects, bareTime.Round(time.Millisecond), took.Seconds()/bareTime.Seconds())
	return nil
}

func opsPerSec(w *workload.Workload) float64 {
	n := 0
	for _, r := range w.Report() {
		n += r.OK
	}
	return float64(n) / w.Elapsed().Seconds()
}

// measureLag writes n records, each through one server in turn, and times
// how long after the acknowledgement each other server's search finds it.
func measureLag(servers []*server, n int) ([]time.Duration, error) {
	var lags []time.Duration
	for i := range n {
		writer := servers[i%len(servers)]
		tok := fmt.Sprintf("zqlag%dx", i)
		body, _ := json.Marshal(map[string]string{"subject": "رسالة لقياس التأخر " + tok})
		if err := call(writer, "POST", "/api/v1/registers/outgoing/records", body, nil); err != nil {
			return nil, err
		}
		acked := time.Now()
		if i > 0 && i%25 == 0 {
			fmt.Printf("  %d writes followed …\n", i)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var firstErr error
		for _, reader := range servers {
			if reader == writer {
				continue
			}
			wg.Go(func() {
				for {
					var res struct{ Total int }
					if err := call(reader, "GET", "/api/v1/search?size=1&q="+url.QueryEscape(tok), nil, &res); err != nil {
						mu.Lock()
						firstErr = err
						mu.Unlock()
						return
					}
					if res.Total == 1 {
						mu.Lock()
						lags = append(lags, time.Since(acked))
						mu.Unlock()
						return
					}
					if time.Since(acked) > time.Minute {
						mu.Lock()
						firstErr = fmt.Errorf("%s not found by %s after a minute", tok, reader.base)
						mu.Unlock()
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
			})
		}
		wg.Wait()
		if firstErr != nil {
			return nil, firstErr
		}
	}
	return lags, nil
}

// seed writes n records straight into the bucket, sixteen at once, a third
// of them with a stored attachment text of about 3 KB.
func seed(ctx context.Context, store *archive.Store, n int) error {
	words := strings.Fields("اجتماع المجلس الوطني قرار الميزانية السنوية اللجنة التنفيذية مراسلة الكتابة الجهوية دعوة لحضور المؤتمر الإقليمي تقرير المالية المكتب السياسي")
	work := make(chan int)
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range work {
				var sb strings.Builder
				for j := range 120 {
					sb.WriteString(words[(i*7+j*3)%len(words)])
					sb.WriteByte(' ')
				}
				subject := fmt.Sprintf("%s %s رقم %d", words[i%len(words)], words[(i/3)%len(words)], i)
				body := sb.String()
				var files []archive.Attachment
				if i%3 == 0 {
					page := []byte(fmt.Sprintf("%%PDF-1.4 scan %d", i))
					a, err := store.PutBlob(ctx, bytes.NewReader(page), "scan.pdf", 1<<20)
					if err != nil {
						errs <- err
						return
					}
					text := strings.Repeat(body, 3)
					if err := store.PutText(ctx, a.SHA256, text); err != nil {
						errs <- err
						return
					}
					files = append(files, a)
				}
				// Forty registers and years, so the sixteen writers rarely wait
				// for one another's register.
				reg, year := archive.Registers()[i%4], 2016+(i/4)%10
				if _, _, err := store.CreateAt(ctx, "bench", reg, year, i/40+1, archive.Fields{Subject: &subject, Body: &body}, files, ""); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := range n {
		select {
		case work <- i:
		case err := <-errs:
			close(work)
			wg.Wait()
			return err
		}
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// server is one sijill serve process.
type server struct {
	cmd   *exec.Cmd
	base  string
	token string
}

func start(bin, data string, cfg s3.Config) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "serve", "--data", data, "--addr", addr, "--log-level", "warn")
	cmd.Env = append(os.Environ(), "SIJILL_ADMIN_PASSWORD="+password,
		"SIJILL_S3_ENDPOINT="+cfg.Endpoint, "SIJILL_S3_BUCKET="+cfg.Bucket,
		"SIJILL_S3_ACCESS_KEY="+cfg.AccessKey, "SIJILL_S3_SECRET_KEY="+cfg.SecretKey)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, base: "http://" + addr}
	deadline := time.Now().Add(10 * time.Minute)
	for {
		if resp, err := http.Get(s.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%s not ready after 10 minutes", s.base)
		}
		time.Sleep(20 * time.Millisecond)
	}
	tok, err := workload.Login(context.Background(), s.base, "admin", password)
	if err != nil {
		s.stop()
		return nil, err
	}
	s.token = tok
	return s, nil
}

func (s *server) stop() {
	if s.cmd.ProcessState == nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
}

func call(s *server, method, path string, body []byte, out any) error {
	req, _ := http.NewRequest(method, s.base+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// peakRSS reads the peak resident memory of a process, in MB.
func peakRSS(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, err := strconv.Atoi(strings.Fields(line)[1])
			return float64(kb) / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM for process %d", pid)
}
