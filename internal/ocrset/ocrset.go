// Package ocrset is the set of scanned letters that text extraction is
// measured and tested on, and the measure: the character error rate of a
// reading against the letter's ground truth. The search recall, which needs
// the index, is measured by its test and by bench/ocr.
//
// Each letter is kept as Chromium printed it (testdata/*.pdf, made by gen
// from ../shared/corpus prose) with the recipe of its scan: File rasterises
// it with pdftoppm and spoils it the same way every time (resolution,
// rotation, blur, noise, JPEG, a phone photo's keystone warp and uneven
// light). Stored spoiled, the set would weigh 60 MB: noise does not compress.
package ocrset

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

//go:embed testdata
var files embed.FS

// Letter is one scanned letter of the set.
type Letter struct {
	Name string `json:"name"`
	// Print is the clean PDF in testdata; Scan says how it is scanned.
	Print string `json:"print"`
	Scan  Scan   `json:"scan"`
	Font  string `json:"font"`
	// Eastern says the letter writes its numbers in Eastern Arabic digits.
	Eastern bool `json:"eastern"`
	// Reference and Date are the sender's reference number and the date, as
	// typed: what a secretary searches a letter by.
	Reference string `json:"reference"`
	Date      string `json:"date"`
	// Truth is the text as typed, line by line in reading order.
	Truth string `json:"truth"`
}

// Letters returns the set.
func Letters() ([]Letter, error) {
	b, err := files.ReadFile("testdata/letters.json")
	if err != nil {
		return nil, err
	}
	var set []Letter
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("ocrset: letters.json: %w", err)
	}
	return set, nil
}

// Scan is how a letter is scanned.
type Scan struct {
	DPI int `json:"dpi"`
	// Format is png, jpeg, tiff (grey, uncompressed), pdf (image-only, one
	// page an image) or photo (a JPEG of the page photographed askew).
	Format  string  `json:"format"`
	Degrees float64 `json:"degrees,omitempty"`
	// Noise is the grey noise's amplitude (0-255), Speckle the share of
	// pixels flipped, Blur a box blur's radius in pixels.
	Noise   int     `json:"noise,omitempty"`
	Speckle float64 `json:"speckle,omitempty"`
	Blur    int     `json:"blur,omitempty"`
	// Quality is the JPEG quality.
	Quality int `json:"quality,omitempty"`
}

// Normalize is what the error rate compares: NFKC (presentation forms to
// letters), no harakat or tatweel, digits as ASCII (Eastern ٣ and Western 3
// are the same number, and search folds them), one space between words. Line
// breaks do not count: a reading that wraps differently is not wrong.
func Normalize(s string) []rune {
	s = norm.NFKC.String(s)
	var out []rune
	space := true
	for _, r := range s {
		switch {
		case r >= '٠' && r <= '٩':
			r = '0' + (r - '٠')
		case r >= '۰' && r <= '۹':
			r = '0' + (r - '۰')
		case r == 'ـ' || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Cf, r):
			continue
		}
		if unicode.IsSpace(r) {
			if !space {
				out = append(out, ' ')
			}
			space = true
			continue
		}
		space = false
		out = append(out, r)
	}
	return []rune(strings.TrimSpace(string(out)))
}

// CER is the character error rate of got against the truth: the edit
// distance between their normalised forms over the truth's length.
func CER(got, truth string) float64 {
	a, b := Normalize(got), Normalize(truth)
	if len(b) == 0 {
		return 0
	}
	return float64(editDistance(a, b)) / float64(len(b))
}

// editDistance is Levenshtein's distance, in two rows.
func editDistance(a, b []rune) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
