package export

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DirSink writes a bag's files under root.
func DirSink(root string) Sink { return dirSink(root) }

type dirSink string

func (d dirSink) Create(name string) (io.WriteCloser, error) {
	p := filepath.Join(string(d), filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
}

// ZipSink writes a bag's files into zw under the directory base, as RFC 8493
// §4.2 asks of a serialised bag: one base directory named like the bag. Files
// that are already compressed (scans, PDFs) are stored, the rest deflated.
func ZipSink(zw *zip.Writer, base string, modified time.Time) Sink {
	return &zipSink{zw: zw, base: base, modified: modified}
}

type zipSink struct {
	zw       *zip.Writer
	base     string
	modified time.Time
}

func (z *zipSink) Create(name string) (io.WriteCloser, error) {
	method := zip.Deflate
	switch strings.ToLower(filepath.Ext(name)) {
	case ".pdf", ".jpg", ".jpeg", ".png", ".tif", ".tiff", ".docx", ".odt", ".zip", ".gz":
		method = zip.Store
	}
	w, err := z.zw.CreateHeader(&zip.FileHeader{Name: z.base + "/" + name, Method: method, Modified: z.modified})
	if err != nil {
		return nil, err
	}
	return nopCloser{w}, nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// WriteZip writes the bag to w as a zip file.
func WriteZip(ctx context.Context, src Source, w io.Writer, opt Options) (*Summary, error) {
	zw := zip.NewWriter(w)
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	sum, err := Bag(ctx, src, ZipSink(zw, Name(opt.Register, opt.Year), now), opt)
	if err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("export: finish zip: %w", err)
	}
	return sum, nil
}

// WriteTo writes the bag to out: a zip file when out ends in .zip, otherwise a
// directory that must not exist yet. The bag is written beside out under a
// temporary name and renamed into place once complete, so a bag that stopped
// half-way is never mistaken for a finished one.
func WriteTo(ctx context.Context, src Source, out string, opt Options) (*Summary, error) {
	out = filepath.Clean(out)
	if _, err := os.Lstat(out); err == nil {
		return nil, fmt.Errorf("export: %s already exists: choose a new name", out)
	}
	tmp := fmt.Sprintf("%s.partial-%d", out, os.Getpid())
	os.RemoveAll(tmp)
	var (
		sum *Summary
		err error
	)
	if strings.EqualFold(filepath.Ext(out), ".zip") {
		sum, err = writeZipFile(ctx, src, tmp, opt)
	} else {
		sum, err = Bag(ctx, src, DirSink(tmp), opt)
	}
	if err == nil {
		err = os.Rename(tmp, out)
	}
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	return sum, nil
}

func writeZipFile(ctx context.Context, src Source, name string, opt Options) (*Summary, error) {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	sum, err := WriteZip(ctx, src, f, opt)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return sum, err
}
