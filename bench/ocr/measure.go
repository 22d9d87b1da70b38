package main

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/sijill/sijill/internal/scantest"
	"github.com/sijill/sijill/internal/scantest/printed"
)

// corpusText returns about n characters of the real secretariat documents.
func corpusText(n int) string {
	b, err := os.ReadFile("/work/shared/corpus/decisions-national-council.txt")
	if err != nil {
		// A short stand-in when the corpus is not on this machine.
		b = []byte(strings.Repeat("عرفت فعاليات المجلس الوطني المنعقد في دورته الاستثنائية مشاركة قيمة لأعضاء وعضوات الحزب. ", 40))
	}
	r := []rune(string(b))
	return string(r[:min(n, len(r))])
}

// words normalises text the way a reader would compare it: NFKC, no
// diacritics or tatweel, one alef, ى as ي, ة as ه.
func words(s string) []string {
	s = norm.NFKC.String(s)
	var out []string
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r) }) {
		w = strings.Map(func(r rune) rune {
			switch {
			case unicode.Is(unicode.Mn, r), r == 'ـ':
				return -1
			case r == 'أ' || r == 'إ' || r == 'آ':
				return 'ا'
			case r == 'ى':
				return 'ي'
			case r == 'ة':
				return 'ه'
			}
			return r
		}, w)
		if len([]rune(w)) >= 2 {
			out = append(out, w)
		}
	}
	return out
}

// recall is the share of the source's words that the OCR found.
func recall(source, ocr string) float64 {
	seen := map[string]bool{}
	for _, w := range words(ocr) {
		seen[w] = true
	}
	src := words(source)
	found := 0
	for _, w := range src {
		if seen[w] {
			found++
		}
	}
	return float64(found) / float64(max(len(src), 1))
}

// measure prints, for a few resolutions and page segmentation modes, the
// share of a printed page's words Tesseract reads and the time it takes, on
// the clean page and on the page spoiled like a scan.
func measure(ctx context.Context, w io.Writer, dpis []int, threshold string) error {
	body := corpusText(1400)
	pdf, err := printed.PDF(ctx, "قرارات المجلس الوطني في دورته الاستثنائية", body)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "ocr-measure-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintf(w, "OCR of a printed page (%d source words), thresholding %q: recall / seconds (one thread)\n", len(words(body)), threshold)
	fmt.Fprintf(w, "%-14s %14s %14s %14s\n", "page", "psm 3", "psm 4", "psm 6")
	for _, dpi := range dpis {
		page, err := scantest.Page(ctx, pdf, dpi)
		if err != nil {
			return err
		}
		for _, spoiled := range []bool{false, true} {
			img, label := page, fmt.Sprintf("%d dpi clean", dpi)
			if spoiled {
				img, label = scantest.Spoil(page, 1.5, 40, 0.01, 1), fmt.Sprintf("%d dpi scanned", dpi)
			}
			path := filepath.Join(dir, "p.png")
			var buf bytes.Buffer
			if err := png.Encode(&buf, img); err != nil {
				return err
			}
			if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
				return err
			}
			fmt.Fprintf(w, "%-14s", label)
			for _, psm := range []string{"3", "4", "6"} {
				start := time.Now()
				args := []string{path, "-", "-l", "ara+eng", "--psm", psm, "--dpi", strconv.Itoa(dpi)}
				if threshold != "" {
					args = append(args, "-c", "thresholding_method="+threshold)
				}
				cmd := exec.CommandContext(ctx, "tesseract", args...)
				cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
				out, err := cmd.Output()
				if err != nil {
					return fmt.Errorf("tesseract: %w", err)
				}
				fmt.Fprintf(w, " %7.3f/%5.1fs", recall(body, string(out)), time.Since(start).Seconds())
			}
			fmt.Fprintln(w)
		}
	}
	return nil
}
