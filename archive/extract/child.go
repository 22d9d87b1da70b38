package extract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
)

// Reading an uploaded file is reading untrusted input: a DOCX whose XML
// inflates to gigabytes, a PNG that declares 40000 × 40000 pixels, a PDF page
// of two hundred inches. The checks in formats.go refuse the ones we know of;
// what no check foresaw must still not take the server with it. So every file
// is read in a child process (the sijill program itself, started again with
// SIJILL_EXTRACT_CHILD=1) under limits on memory, processor time and file size
// that the tools it starts (pdftoppm, Tesseract) inherit; the server only
// reads the child's answer. A child that dies is a failed attempt of that
// file, never a dead server.

// childEnv marks a process started to read one file.
const childEnv = "SIJILL_EXTRACT_CHILD"

// Limits of a child, inherited by the tools it starts.
const (
	childAddressSpace = 4 << 30 // virtual memory of the child and of each tool
	childGoMemory     = 1 << 30 // the child's own heap (a soft limit for Go's collector)
	childCPU          = 15 * 60 // seconds of processor time
	childFileSize     = 2 << 30 // largest scratch file (a rasterised page)
	childOutput       = 8 << 20 // bytes of answer read from the child
	childTimeout      = 30 * time.Minute
)

// RunChildIfAsked reads one file and exits, if this process was started as
// a child reader (see above); otherwise it returns at once. Call it first
// thing in main, and in the TestMain of tests that start a Pool.
func RunChildIfAsked() {
	if os.Getenv(childEnv) != "1" {
		return
	}
	os.Exit(childMain(os.Stdin, os.Stdout))
}

// childRequest is what the server asks of a child; childAnswer its answer.
type childRequest struct {
	Path        string        `json:"path"`
	ContentType string        `json:"content_type"`
	Dir         string        `json:"dir"`
	Tools       Tools         `json:"tools"`
	PageTimeout time.Duration `json:"page_timeout"`
	MaxPages    int           `json:"max_pages"`
}

type childAnswer struct {
	Result      Result `json:"result"`
	Error       string `json:"error,omitempty"`
	Unavailable bool   `json:"unavailable,omitempty"`
}

func childMain(in io.Reader, out io.Writer) int {
	limitSelf()
	debug.SetMemoryLimit(childGoMemory)
	var req childRequest
	if err := json.NewDecoder(io.LimitReader(in, 1<<20)).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, "extract child: bad request:", err)
		return 2
	}
	x := Extractor{Tools: req.Tools, PageTimeout: req.PageTimeout, MaxPages: req.MaxPages}
	res, err := x.File(context.Background(), req.Path, req.ContentType, req.Dir)
	ans := childAnswer{Result: res}
	if err != nil {
		ans.Error = err.Error()
		ans.Unavailable = errors.Is(err, ErrUnavailable)
		ans.Result = Result{}
	}
	if err := json.NewEncoder(out).Encode(ans); err != nil {
		return 2
	}
	return 0
}

// errChildDied is a child that ended without an answer: killed for going
// over a limit, or crashed. The attempt is counted; the file is tried again
// a bounded number of times (see maxAttempts).
var errChildDied = errors.New("extract: reading the file stopped the reader")

// inChild reads the file at path in a child process (see above).
func (x *Extractor) inChild(ctx context.Context, command []string, path, contentType, dir string) (Result, error) {
	req, _ := json.Marshal(childRequest{Path: path, ContentType: contentType, Dir: dir, Tools: x.Tools,
		PageTimeout: x.PageTimeout, MaxPages: x.MaxPages})
	tctx, cancel := context.WithTimeout(ctx, childTimeout)
	defer cancel()
	cmd := exec.CommandContext(tctx, command[0], command[1:]...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stdin = bytes.NewReader(req)
	var stdout, stderr limitedBuffer
	stdout.max, stderr.max = childOutput, 64<<10
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	// Its own process group, so a timeout kills the tools it started too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	err := cmd.Run()
	if err != nil && ctx.Err() != nil {
		return Result{}, ctx.Err() // shutting down: nobody's fault
	}
	if err != nil && tctx.Err() != nil {
		return Result{}, fmt.Errorf("%w (it took longer than %s)", errChildDied, childTimeout)
	}
	var ans childAnswer
	if derr := json.Unmarshal(stdout.b, &ans); derr != nil || stdout.over {
		why := "it ended without an answer"
		if err != nil {
			why = describeExit(err)
		}
		if msg := strings.TrimSpace(firstLines(stderr.String(), 2)); msg != "" {
			why += ": " + msg
		}
		return Result{}, fmt.Errorf("%w (%s)", errChildDied, why)
	}
	switch {
	case ans.Unavailable:
		return Result{}, fmt.Errorf("%w: %s", ErrUnavailable, strings.TrimPrefix(ans.Error, ErrUnavailable.Error()+": "))
	case ans.Error != "":
		return Result{}, errors.New(ans.Error)
	}
	return Correct(ans.Result, x.Lexicon), nil // the child has no lexicon
}

// describeExit says how a child ended, in the words an operator needs.
func describeExit(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			switch ws.Signal() {
			case syscall.SIGKILL:
				return "killed: out of memory or time"
			case syscall.SIGXCPU:
				return "it used more processor time than allowed"
			case syscall.SIGXFSZ:
				return "it wrote a larger scratch file than allowed"
			case syscall.SIGSEGV, syscall.SIGABRT:
				return "it crashed, as over-large files make it do"
			}
			return "killed by " + ws.Signal().String()
		}
	}
	return err.Error()
}

// limitedBuffer keeps at most max bytes written to it.
type limitedBuffer struct {
	b    []byte
	max  int
	over bool
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - len(l.b); room < len(p) {
		l.b = append(l.b, p[:max(room, 0)]...)
		l.over = true
		return len(p), nil
	}
	l.b = append(l.b, p...)
	return len(p), nil
}

func (l *limitedBuffer) String() string { return string(l.b) }
