package index

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sijill/sijill/archive"
)

// corpusDir holds real party documents shared by the project's tests.
const corpusDir = "../../shared/corpus"

// corpusFiles assigns each corpus document a register and a year; every
// non-empty paragraph becomes one record, numbered from 1.
var corpusFiles = []struct {
	file string
	reg  archive.Register
	year int
}{
	{"decisions-national-council.txt", archive.Decisions, 2017},
	{"minutes-dialogue-session.txt", archive.Minutes, 2021},
	{"minutes-general-secretariat.txt", archive.Incoming, 2022},
}

// corpusRecords reads the corpus as paragraph records. The subject is the
// paragraph's first eight words, the body the whole paragraph.
func corpusRecords(t testing.TB) []*archive.Record {
	t.Helper()
	dir := corpusDir
	if d := os.Getenv("SIJILL_CORPUS"); d != "" {
		dir = d
	}
	var recs []*archive.Record
	for _, cf := range corpusFiles {
		f, err := os.Open(filepath.Join(dir, cf.file))
		if err != nil {
			t.Fatalf("corpus: %v (the corpus lives in /work/shared/corpus; set SIJILL_CORPUS to its directory)", err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		n := 0
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" {
				continue
			}
			n++
			words := strings.Fields(line)
			if len(words) > 8 {
				words = words[:8]
			}
			recs = append(recs, &archive.Record{
				ID: archive.RecordID(cf.reg, cf.year, n), Register: cf.reg, Year: cf.year, Number: n,
				Date:    fmt.Sprintf("%d-%02d-%02d", cf.year, 1+n%12, 1+n%28),
				Subject: strings.Join(words, " "), Body: line,
				Confidentiality: archive.Normal, Status: archive.StatusActive,
			})
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return recs
}

func openTestIndex(t testing.TB) *Index {
	t.Helper()
	ix, err := Open(filepath.Join(t.TempDir(), "index"), Options{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

func corpusIndex(t testing.TB) (*Index, []*archive.Record) {
	t.Helper()
	ix := openTestIndex(t)
	recs := corpusRecords(t)
	ctx := context.Background()
	for _, r := range recs {
		if err := ix.Put(ctx, r, "", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	return ix, recs
}
