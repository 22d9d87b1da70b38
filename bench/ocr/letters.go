package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sijill/sijill/archive/extract"
	"github.com/sijill/sijill/index"
	"github.com/sijill/sijill/internal/ocrset"
)

// letters reads the OCR set (internal/ocrset) with Sijill's extraction and
// with plain `tesseract -l ara` and Debian's model on the same files, and
// prints per letter the character error rate, the search recall and the
// seconds of each, then the means. dump, when set, keeps the scanned files
// there (and with scansOnly nothing else is done).
func letters(ctx context.Context, w io.Writer, tessdata, dump string, scansOnly bool) error {
	set, err := ocrset.Letters()
	if err != nil {
		return err
	}
	tools := extract.DetectTools(ctx, tessdata)
	if !tools.OCR() {
		return fmt.Errorf("no OCR here: make deps installs Tesseract and the Arabic model")
	}
	dir, err := os.MkdirTemp("", "ocr-letters-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	words, err := index.NewWords()
	if err != nil {
		return err
	}
	x := &extract.Extractor{Tools: tools, PageTimeout: 10 * time.Minute, Lexicon: words}
	fmt.Fprintf(w, "Sijill: model %s; plain: tesseract -l ara with Debian's model (%s)\n", tools.Model, "tesseract-ocr-ara")
	sijill, plain := make([]string, len(set)), make([]string, len(set))
	var secS, secP []float64
	// The scans first, so that -dump has them all even when reading fails.
	paths, ctypes := make([]string, len(set)), make([]string, len(set))
	for i, l := range set {
		b, ctype, err := l.File(ctx, uint64(i+1))
		if err != nil {
			return err
		}
		path := filepath.Join(dir, l.Name+extOf(ctype))
		if dump != "" {
			path = filepath.Join(dump, l.Name+extOf(ctype))
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return err
		}
		paths[i], ctypes[i] = path, ctype
	}
	if scansOnly {
		return nil
	}
	for i, l := range set {
		path, ctype := paths[i], ctypes[i]
		start := time.Now()
		res, err := x.File(ctx, path, ctype, dir)
		if err != nil {
			return fmt.Errorf("%s: %w", l.Name, err)
		}
		secS = append(secS, time.Since(start).Seconds())
		sijill[i] = res.Text
		start = time.Now()
		if plain[i], err = plainTesseract(ctx, path, ctype, dir); err != nil {
			return fmt.Errorf("%s: plain: %w", l.Name, err)
		}
		secP = append(secP, time.Since(start).Seconds())
		if dump != "" {
			os.WriteFile(filepath.Join(dump, l.Name+".sijill.txt"), []byte(res.Text), 0o644)
			os.WriteFile(filepath.Join(dump, l.Name+".plain.txt"), []byte(plain[i]), 0o644)
			os.WriteFile(filepath.Join(dump, l.Name+".truth.txt"), []byte(l.Truth), 0o644)
		}
	}
	foundS, err := ocrset.Search(ctx, set, sijill)
	if err != nil {
		return err
	}
	foundP, err := ocrset.Search(ctx, set, plain)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%-28s %8s %8s %8s %8s %6s %6s %7s %7s\n", "letter", "CER", "plain", "recall", "plain", "ref", "plain", "seconds", "plain")
	var sum [6]float64
	refs := [2]int{}
	for i, l := range set {
		cs, cp := ocrset.CER(sijill[i], l.Truth), ocrset.CER(plain[i], l.Truth)
		fmt.Fprintf(w, "%-28s %8.3f %8.3f %8.3f %8.3f %6s %6s %7.1f %7.1f\n", l.Name, cs, cp,
			foundS[i].Recall(), foundP[i].Recall(), refDate(foundS[i]), refDate(foundP[i]), secS[i], secP[i])
		for k, v := range []float64{cs, cp, foundS[i].Recall(), foundP[i].Recall(), secS[i], secP[i]} {
			sum[k] += v
		}
		if l.Eastern {
			refs[0] += btoi(foundS[i].Reference) + btoi(foundS[i].Date)
			refs[1] += btoi(foundP[i].Reference) + btoi(foundP[i].Date)
		}
	}
	n := float64(len(set))
	east := 0
	for _, l := range set {
		if l.Eastern {
			east += 2
		}
	}
	fmt.Fprintf(w, "%-28s %8.3f %8.3f %8.3f %8.3f %6s %6s %7.1f %7.1f\n", "mean", sum[0]/n, sum[1]/n, sum[2]/n, sum[3]/n, "", "", sum[4]/n, sum[5]/n)
	// The total says what a day's scans cost; the median letter's ratio says
	// what a page costs, without one slow letter of either side weighing.
	ratios := make([]float64, len(set))
	for i := range set {
		ratios[i] = secS[i] / secP[i]
	}
	slices.Sort(ratios)
	fmt.Fprintf(w, "Eastern-digit references and dates found: Sijill %d/%d, plain %d/%d; time: Sijill %.2fx plain in all, %.2fx on the median letter\n",
		refs[0], east, refs[1], east, sum[4]/sum[5], ratios[len(ratios)/2])
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func refDate(f ocrset.Found) string {
	s := ""
	for _, ok := range []bool{f.Reference, f.Date} {
		if ok {
			s += "+"
		} else {
			s += "-"
		}
	}
	return s
}

func extOf(ctype string) string {
	switch ctype {
	case "image/jpeg":
		return ".jpg"
	case "image/tiff":
		return ".tif"
	case "application/pdf":
		return ".pdf"
	}
	return ".png"
}

// plainTesseract is what anyone gets without Sijill: `tesseract FILE - -l
// ara` with Debian's model, a PDF's pages rasterised at 300 dpi first.
func plainTesseract(ctx context.Context, path, ctype, dir string) (string, error) {
	pages := []string{path}
	if ctype == "application/pdf" {
		prefix := filepath.Join(dir, "plain")
		if out, err := exec.CommandContext(ctx, "pdftoppm", "-r", "300", "-gray", "-png", path, prefix).CombinedOutput(); err != nil {
			return "", fmt.Errorf("pdftoppm: %v: %s", err, out)
		}
		var err error
		if pages, err = filepath.Glob(prefix + "-*.png"); err != nil {
			return "", err
		}
		defer func() {
			for _, p := range pages {
				os.Remove(p)
			}
		}()
	}
	var b strings.Builder
	for _, p := range pages {
		// At Sijill's priority (extract runs its tools niced), so that a busy
		// machine slows both alike.
		cmd := exec.CommandContext(ctx, "nice", "-n", "10", "tesseract", p, "-", "-l", "ara")
		cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1", "TESSDATA_PREFIX=/usr/share/tesseract-ocr/5/tessdata")
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("tesseract: %w", err)
		}
		b.Write(out)
		b.WriteString("\n")
	}
	return b.String(), nil
}
