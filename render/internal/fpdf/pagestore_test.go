package fpdf

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sijill/sijill/fonts"
)

// memStore is a PageStore in memory, counting what passes through it.
type memStore struct {
	pages [][]byte
	err   error // returned by Put once set
}

func (m *memStore) Put(n int, b []byte) error {
	if m.err != nil {
		return m.err
	}
	if n != len(m.pages)+1 {
		return fmt.Errorf("page %d after %d", n, len(m.pages))
	}
	m.pages = append(m.pages, bytes.Clone(b))
	return nil
}

func (m *memStore) Get(n int) ([]byte, error) { return m.pages[n-1], nil }

// document writes a few pages of Arabic with the page count drawn through
// aliases registered only at the end, as Sijill's register book does.
func document(t *testing.T, store PageStore) (*Fpdf, []byte) {
	t.Helper()
	f := New("P", "mm", "A4", "")
	f.SetCompression(true)
	f.SetCatalogSort(true)
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	f.SetCreationDate(at)
	f.SetModificationDate(at)
	f.AddUTF8FontFromBytes("amiri", "", fonts.AmiriRegular)
	if store != nil {
		f.SetPageStore(store)
	}
	for i := 1; i <= 5; i++ {
		f.AddPage()
		f.SetFont("amiri", "", 14)
		f.Text(20, 30, fmt.Sprintf("page %d of {total}", i))
		f.Text(20, 50, "سجل الوارد {total}")
		f.Line(10, 60, 200, 60)
	}
	f.RegisterAlias("{total}", "5")
	var out bytes.Buffer
	if err := f.Output(&out); err != nil {
		t.Fatal(err)
	}
	return f, out.Bytes()
}

// TestPageStoreSameDocument checks that a document whose pages went to a
// store and which was streamed to its writer is the very document fpdf
// builds in memory, aliases included.
func TestPageStoreSameDocument(t *testing.T) {
	_, want := document(t, nil)
	store := &memStore{}
	_, got := document(t, store)
	if len(store.pages) != 5 {
		t.Fatalf("%d pages went to the store, want 5", len(store.pages))
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the streamed PDF (%d bytes) differs from the one built in memory (%d bytes)", len(got), len(want))
	}
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext is missing (Debian poppler-utils; `make test` installs it)")
	}
	cmd := exec.Command("pdftotext", "-", "-")
	cmd.Stdin = bytes.NewReader(got)
	text, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(text), "of 5"); n != 5 {
		t.Errorf("pdftotext finds the page count on %d pages, want 5:\n%s", n, text)
	}
}

func TestPageStoreErrors(t *testing.T) {
	t.Run("Put fails", func(t *testing.T) {
		f := New("P", "mm", "A4", "")
		f.SetPageStore(&memStore{err: errors.New("disk full")})
		f.AddPage()
		f.AddPage()
		var out bytes.Buffer
		if err := f.Output(&out); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("Output = %v, want the store's error", err)
		}
		if out.Len() != 0 {
			t.Errorf("%d bytes written after the store failed", out.Len())
		}
	})
	t.Run("SetPage to a stored page", func(t *testing.T) {
		f := New("P", "mm", "A4", "")
		f.SetPageStore(&memStore{})
		f.AddPage()
		f.AddPage()
		f.SetPage(1)
		if f.Error() == nil {
			t.Error("returning to a stored page is not an error")
		}
	})
	t.Run("store set after the first page", func(t *testing.T) {
		f := New("P", "mm", "A4", "")
		f.AddPage()
		f.SetPageStore(&memStore{})
		if f.Error() == nil {
			t.Error("SetPageStore after AddPage is not an error")
		}
	})
}
