package render

import (
	"errors"
	"fmt"
	"os"
	"slices"
)

// pageFile keeps the finished pages of a long document in a temporary file
// until the PDF is written, so a register book of 10,000 entries holds one
// page in memory, not 600 (fpdf.PageStore). The file is removed as soon as it
// is created (on systems that allow it), so nothing is left behind if the
// process dies.
type pageFile struct {
	f    *os.File
	name string
	ends []int64 // ends[n-1] is where page n's content ends in f
	buf  []byte
}

func newPageFile(dir string) (*pageFile, error) {
	f, err := os.CreateTemp(dir, "sijill-pages-*")
	if err != nil {
		return nil, fmt.Errorf("render: page file: %w", err)
	}
	p := &pageFile{f: f, name: f.Name()}
	if os.Remove(p.name) == nil {
		p.name = ""
	}
	return p, nil
}

// Put appends page n, which must follow the last page put.
func (p *pageFile) Put(n int, content []byte) error {
	if n != len(p.ends)+1 {
		return fmt.Errorf("page %d put after page %d", n, len(p.ends))
	}
	if _, err := p.f.Write(content); err != nil {
		return err
	}
	p.ends = append(p.ends, p.end()+int64(len(content)))
	return nil
}

func (p *pageFile) end() int64 {
	if len(p.ends) == 0 {
		return 0
	}
	return p.ends[len(p.ends)-1]
}

// Get reads page n back into a buffer reused by the next Get.
func (p *pageFile) Get(n int) ([]byte, error) {
	if n < 1 || n > len(p.ends) {
		return nil, fmt.Errorf("no page %d", n)
	}
	start := int64(0)
	if n > 1 {
		start = p.ends[n-2]
	}
	size := int(p.ends[n-1] - start)
	p.buf = slices.Grow(p.buf[:0], size)[:size]
	if _, err := p.f.ReadAt(p.buf, start); err != nil {
		return nil, err
	}
	return p.buf, nil
}

func (p *pageFile) Close() error {
	err := p.f.Close()
	if p.name != "" {
		err = errors.Join(err, os.Remove(p.name))
	}
	return err
}
