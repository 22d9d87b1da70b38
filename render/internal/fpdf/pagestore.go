// Sijill's addition to fpdf: finished pages kept out of memory, and the PDF
// streamed to the writer as it is assembled. See README.md in this folder.

package fpdf

import (
	"bytes"
	"fmt"
	"io"
)

// PageStore keeps the content of finished pages outside the process's
// memory, so that a document of thousands of pages costs the memory of one.
// Aliases (RegisterAlias, AliasNbPages) are replaced when a page is read back
// for Output, so they may still be registered after the pages are stored.
type PageStore interface {
	// Put keeps the content of page n (1-based), which will not change again.
	Put(n int, content []byte) error
	// Get returns the content Put for page n. The slice is only read before
	// the next call to Get.
	Get(n int) ([]byte, error)
}

// SetPageStore sends the content of every page to s as the page ends (when
// the next page is added or the document is closed) and has Output write the
// PDF to its writer object by object instead of building it in memory. A
// stored page cannot be returned to with SetPage. Call it before the first
// AddPage.
func (f *Fpdf) SetPageStore(s PageStore) {
	if f.page > 0 {
		f.SetErrorf("SetPageStore after the first page")
		return
	}
	f.pageStore = s
}

// storePage hands the page that just ended to the page store and drops it
// from memory.
func (f *Fpdf) storePage() {
	if f.pageStore == nil || f.err != nil || f.page < 1 || f.page >= len(f.pages) {
		return
	}
	if err := f.pageStore.Put(f.page, f.pages[f.page].Bytes()); err != nil {
		f.SetError(fmt.Errorf("store page %d: %w", f.page, err)) // Sijill: %w keeps a full disk visible
		return
	}
	f.pages[f.page] = new(bytes.Buffer)
	f.storedPages = f.page
}

// pageContent is the content of page n as written into the PDF: read back
// from the page store, with the aliases replaced, when there is one.
func (f *Fpdf) pageContent(n int) ([]byte, error) {
	if f.pageStore == nil || n > f.storedPages {
		return f.pages[n].Bytes(), nil
	}
	b, err := f.pageStore.Get(n)
	if err != nil {
		return nil, fmt.Errorf("read stored page %d: %w", n, err)
	}
	if len(f.aliasMap) == 0 {
		return b, nil
	}
	for mode := range 2 {
		for alias, replacement := range f.aliasMap {
			if mode == 1 {
				alias = utf8toutf16(alias, false)
				replacement = utf8toutf16(replacement, false)
			}
			if bytes.Contains(b, []byte(alias)) {
				b = bytes.ReplaceAll(b, []byte(alias), []byte(replacement))
			}
		}
	}
	return b, nil
}

// offset is the position in the PDF of what is written next to the buffer.
func (f *Fpdf) offset() int { return f.flushed + f.buffer.Len() }

// flush writes what the buffer holds to the writer Output was given, when
// the document streams there.
func (f *Fpdf) flush() {
	if f.sink == nil || f.err != nil {
		return
	}
	n, err := f.buffer.WriteTo(f.sink)
	f.flushed += int(n)
	if err != nil {
		f.err = err
	}
}

// streamTo makes the document stream to w during Close when pages are
// stored; it returns whether it does.
func (f *Fpdf) streamTo(w io.Writer) bool {
	if f.pageStore == nil || f.state >= 3 {
		return false
	}
	f.sink = w
	return true
}
