// Command inbox measures the secretary's morning: thirty A4 letters scanned
// at 300 dpi (grey JPEG) dropped on the scan inbox of a real server on the
// local folder, one request per file as the inbox page sends them, until
// every text is extracted — with one OCR worker and with one per core. The
// baseline, in the same run on the same files, is plain `tesseract FILE -
// -l ara` run on each file one after the other.
//
//	go run ./bench/inbox [-scans 30]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/sijill/sijill/bench/internal/server"
	"github.com/sijill/sijill/internal/ocrset"
	"github.com/sijill/sijill/internal/scantest"
)

const password = "bench inbox password"

func main() {
	n := flag.Int("scans", 30, "scanned letters dropped at once")
	flag.Parse()
	if err := run(context.Background(), *n); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, n int) error {
	tmp, err := os.MkdirTemp("", "bench-inbox-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	scans, err := makeScans(ctx, filepath.Join(tmp, "scans"), n)
	if err != nil {
		return err
	}
	var size int64
	for _, s := range scans {
		st, _ := os.Stat(s)
		size += st.Size()
	}
	fmt.Printf("%d A4 letters, 300 dpi grey JPEG, %.1f MB; %d cores\n", n, float64(size)/(1<<20), runtime.NumCPU())

	start := time.Now()
	for _, s := range scans {
		if out, err := exec.CommandContext(ctx, "tesseract", s, "-", "-l", "ara").CombinedOutput(); err != nil {
			return fmt.Errorf("plain tesseract: %v: %s", err, out)
		}
	}
	plain := time.Since(start)
	fmt.Printf("%-44s %7.1f s  %5.1f pages/min  1.00x\n", "plain tesseract -l ara, one file at a time", plain.Seconds(), float64(n)/plain.Minutes())

	bin := filepath.Join(tmp, "sijill")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/sijill/sijill/cmd/sijill").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v: %s", err, out)
	}
	for _, workers := range []int{1, runtime.NumCPU()} {
		drop, done, err := inbox(ctx, bin, filepath.Join(tmp, fmt.Sprintf("data-%d", workers)), workers, scans)
		if err != nil {
			return err
		}
		fmt.Printf("%-44s %7.1f s  %5.1f pages/min  %.2fx   (all %d stored and acknowledged after %.1f s)\n",
			fmt.Sprintf("sijill inbox, drop to all text read, %d worker(s)", workers),
			done.Seconds(), float64(n)/done.Minutes(), done.Seconds()/plain.Seconds(), n, drop.Seconds())
	}
	return nil
}

// makeScans rasterises the OCR set's printed letters at 300 dpi, each with
// its own small tilt and noise, as a grey JPEG: n different scans.
func makeScans(ctx context.Context, dir string, n int) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	letters, err := ocrset.Letters()
	if err != nil {
		return nil, err
	}
	pages := map[string]*image.Gray{}
	var out []string
	for i := range n {
		l := letters[i%len(letters)]
		page, ok := pages[l.Print]
		if !ok {
			pdf, err := os.ReadFile(filepath.Join("internal", "ocrset", "testdata", l.Print))
			if err != nil {
				return nil, fmt.Errorf("run from the repository's root: %w", err)
			}
			if page, err = scantest.Page(ctx, pdf, 300); err != nil {
				return nil, err
			}
			pages[l.Print] = page
		}
		spoiled := scantest.Spoil(page, float64(i%5-2)*0.4, 8, 0.0005, uint64(i+1))
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, spoiled, &jpeg.Options{Quality: 85}); err != nil {
			return nil, err
		}
		p := filepath.Join(dir, fmt.Sprintf("scan-%02d.jpg", i+1))
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// inbox starts a server with workers OCR workers, drops the scans on its
// inbox one request each, and waits until every text is read: it returns
// when the last file was acknowledged and when the last text was read,
// both from the first byte sent.
func inbox(ctx context.Context, bin, data string, workers int, scans []string) (drop, done time.Duration, err error) {
	base, kill, err := server.Start(bin, data, []string{"--scan-dir", "off"},
		[]string{"SIJILL_ADMIN_PASSWORD=" + password, fmt.Sprintf("SIJILL_OCR_WORKERS=%d", workers)})
	if err != nil {
		return 0, 0, err
	}
	defer kill()
	token, err := login(base)
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	for _, s := range scans {
		if err := send(base, token, s); err != nil {
			return 0, 0, err
		}
	}
	drop = time.Since(start)
	for deadline := time.Now().Add(30 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		left, err := pending(base, token, len(scans))
		if err != nil {
			return 0, 0, err
		}
		if left == 0 {
			return drop, time.Since(start), nil
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("%d texts unread after 30 minutes", left)
		}
	}
}

func login(base string) (string, error) {
	b, _ := json.Marshal(map[string]string{"username": "admin", "password": password})
	resp, err := http.Post(base+"/api/v1/auth/login", "application/json", bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		return "", fmt.Errorf("login: %d %v", resp.StatusCode, err)
	}
	return out.Token, nil
}

func send(base, token, path string) error {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	part, _ := w.CreateFormFile("file", filepath.Base(path))
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	io.Copy(part, f)
	f.Close()
	w.Close()
	req, _ := http.NewRequest("POST", base+"/api/v1/inbox", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 201 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("POST /api/v1/inbox: %d %s", resp.StatusCode, b)
	}
	return nil
}

// pending counts the inbox's files whose text is not read yet; a file read
// but failed is an error.
func pending(base, token string, want int) (int, error) {
	req, _ := http.NewRequest("GET", base+"/api/v1/inbox", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var out struct {
		Items []struct {
			Text *struct{ Status, Error string }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return 0, err
	}
	if len(out.Items) != want {
		return 0, fmt.Errorf("%d inbox items, want %d", len(out.Items), want)
	}
	left := 0
	for _, it := range out.Items {
		switch {
		case it.Text == nil || it.Text.Status == "pending":
			left++
		case it.Text.Status != "done":
			return 0, fmt.Errorf("a text was not read: %s %s", it.Text.Status, strings.TrimSpace(it.Text.Error))
		}
	}
	return left, nil
}
