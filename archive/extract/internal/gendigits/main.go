// Command gendigits draws the digits (Eastern ٠-٩ and Western 0-9), the
// slash and the Arabic letters from every Arabic font it finds, and writes
// their described shapes (package glyph) for extract's digit reader:
//
//	go run ./archive/extract/internal/gendigits -out archive/extract/digits.gob.gz
//
// Tesseract's Arabic models cannot read Eastern digits (the best one knows
// only ٠ and ١), and no model served here reads them well (see extract's
// digits.go); so the shapes are drawn from fonts, not learned. It runs once,
// by hand (make digit-templates, which installs the fonts); the output is
// kept in the repository, so neither the tests nor the server need the
// fonts.
package main

import (
	"compress/gzip"
	"encoding/gob"
	"flag"
	"fmt"
	"image"
	"image/draw"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/go-text/typesetting/font"
	"github.com/go-text/typesetting/font/opentype"
	"github.com/sijill/sijill/archive/extract/internal/glyph"
	"golang.org/x/image/vector"
)

const (
	eastern  = "٠١٢٣٤٥٦٧٨٩"
	western  = "0123456789"
	letters  = "ابتثجحخدذرزسشصضطظعغفقكلمنهويةىءأإ"
	undotted = "ادرسصطعحكلمهوى"
)

var letterRunes = []rune(letters)

// textFonts are the fonts letters are typed in (Debian's fonts-hosny-amiri,
// fonts-noto-core, fonts-kacst, fonts-kacst-one, fonts-sil-scheherazade,
// fonts-sil-lateef, fonts-dejavu-core, fonts-arabeyes), regular and bold;
// decorative faces (outlined, shadowed, dotted) would only teach the reader
// shapes no letter has.
var textFonts = []string{
	"Amiri-Regular", "Amiri-Bold", "NotoNaskhArabic-Regular", "NotoNaskhArabic-Bold",
	"NotoKufiArabic-Regular", "NotoKufiArabic-Bold", "NotoSansArabic-Regular", "NotoSansArabic-Bold",
	"KacstBook", "KacstNaskh", "KacstOffice", "KacstOne", "KacstOne-Bold", "KacstLetter", "KacstTitle",
	"Scheherazade-Regular", "Scheherazade-Bold", "Lateef-Regular", "Lateef-Bold", "DejaVuSans", "DejaVuSans-Bold",
	"ae_AlArabiya", "ae_Arab", "ae_Furat", "ae_Granada", "ae_Hor", "ae_Khalid", "ae_Nagham", "ae_Salem",
	"ae_Tholoth", "ae_Cortoba", "ae_Rehan", "ae_Sindbad", "ae_Tarablus", "ae_Kayrawan", "ae_Dimnah",
}

func main() {
	out := flag.String("out", "archive/extract/digits.gob.gz", "where to write the templates")
	dir := flag.String("fonts", "/usr/share/fonts", "where the fonts are")
	skip := flag.String("skip", "", "leave out fonts whose file name holds one of these (comma-separated), to measure the reader on fonts it has not seen")
	flag.Parse()
	var set []glyph.Template
	var used []string
	err := filepath.WalkDir(*dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := d.Name()
		if !slices.Contains(textFonts, strings.TrimSuffix(name, filepath.Ext(name))) ||
			slices.ContainsFunc(strings.Split(*skip, ","), func(s string) bool { return s != "" && strings.Contains(name, s) }) {
			return nil
		}
		file, err := os.Open(path)
		if err != nil {
			return err
		}
		defer file.Close()
		f, err := font.ParseTTF(file)
		if err != nil || !covers(f, eastern+letters) {
			return nil
		}
		ts, err := draw1(f)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		set = append(set, ts...)
		used = append(used, name)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	if len(used) == 0 {
		log.Fatal("no Arabic font with digits found")
	}
	set = prune(set)
	w, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	zw, _ := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err := gob.NewEncoder(zw).Encode(set); err != nil {
		log.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	slices.Sort(used)
	fmt.Printf("%d templates from %d fonts: %s\n", len(set), len(used), strings.Join(used, " "))
}

// covers says whether f draws every character of s.
func covers(f *font.Face, s string) bool {
	for _, r := range s {
		if r == ' ' {
			continue
		}
		if _, ok := f.NominalGlyph(r); !ok {
			return false
		}
	}
	return true
}

// draw1 draws one font's digits at two sizes (digits about 15 and 30
// pixels tall: 200 to 400 dpi for 11-14 point type) and two ink weights (the
// grey edge taken as ink or paper), its letters once, and describes each
// shape against the band of the font's own digits.
func draw1(face *font.Face) ([]glyph.Template, error) {
	var set []glyph.Template
	for _, size := range []float64{32, 56} {
		for _, dark := range []uint8{100, 160} {
			var letterShapes [][]glyph.Shape
			render := func(s string) [][]glyph.Shape {
				var out [][]glyph.Shape
				for _, r := range s {
					if r == ' ' {
						continue
					}
					out = append(out, shapesOf(face, string(r), size, dark))
				}
				return out
			}
			east, west := render(eastern), render(western)
			if size == 56 && dark == 160 {
				letterShapes = render(letters) // letters only need telling apart, not every size
			}
			if !covers(face, western) {
				west = nil // KACST fonts: a letter's Western digits come from another font
			}
			var slash [][]glyph.Shape
			if covers(face, "/") {
				slash = render("/") // not in Noto's Arabic fonts either
			}
			for _, group := range []struct {
				shapes [][]glyph.Shape
				labels string
				band   [][]glyph.Shape
			}{
				{east, eastern, east},
				{west, western, west},
				{slash, "/", east},
				{slash, "/", west},
				{letterShapes, "", east},
			} {
				if len(group.band) == 0 {
					continue
				}
				band := glyph.BandOf(largest(group.band))
				labels := []rune(group.labels)
				for i, shapes := range group.shapes {
					if group.labels != "" {
						// A digit is one shape; specks of anti-aliasing are not.
						s := largest([][]glyph.Shape{shapes})
						if len(s) == 0 {
							continue
						}
						set = append(set, glyph.Template{Label: labels[i], Features: glyph.Describe(s[0], band)})
						continue
					}
					// A letter's body is labelled with the letter where the
					// body alone tells it (no dots): the reader gives back the
					// letter beside a number («و/١٣٤») that Tesseract read as a
					// digit. Dots and dotted bodies are only not digits.
					body := largest([][]glyph.Shape{shapes})
					for _, s := range shapes {
						label := glyph.Other
						if len(body) > 0 && s.Box == body[0].Box && strings.ContainsRune(undotted, letterRunes[i]) {
							label = letterRunes[i]
						}
						set = append(set, glyph.Template{Label: label, Features: glyph.Describe(s, band)})
					}
				}
			}
		}
	}
	return set, nil
}

// largest keeps the largest shape of each character.
func largest(chars [][]glyph.Shape) []glyph.Shape {
	var out []glyph.Shape
	for _, shapes := range chars {
		best := -1
		for i, s := range shapes {
			if best < 0 || s.Area > shapes[best].Area {
				best = i
			}
		}
		if best >= 0 {
			out = append(out, shapes[best])
		}
	}
	return out
}

// shapesOf draws s on a canvas with its baseline at a fixed height, so that
// every character of a font shares one baseline. (golang.org/x/image's own
// font reader refuses the Noto and most KACST fonts: "invalid source
// data"; go-text's reads them.)
func shapesOf(face *font.Face, s string, size float64, dark uint8) []glyph.Shape {
	side := int(size * 3)
	z := vector.NewRasterizer(side, side)
	scale := float32(size) / float32(face.Upem())
	ox, oy := float32(side/3), float32(side*2/3)
	at := func(p opentype.SegmentPoint) (float32, float32) { return ox + p.X*scale, oy - p.Y*scale }
	for _, r := range s {
		gid, ok := face.NominalGlyph(r)
		if !ok {
			continue
		}
		outline, ok := face.GlyphData(gid).(font.GlyphOutline)
		if !ok {
			continue
		}
		open := false
		for _, seg := range outline.Segments {
			switch seg.Op {
			case opentype.SegmentOpMoveTo:
				if open {
					z.ClosePath()
				}
				z.MoveTo(at(seg.Args[0]))
				open = true
			case opentype.SegmentOpLineTo:
				z.LineTo(at(seg.Args[0]))
			case opentype.SegmentOpQuadTo:
				x1, y1 := at(seg.Args[0])
				x2, y2 := at(seg.Args[1])
				z.QuadTo(x1, y1, x2, y2)
			case opentype.SegmentOpCubeTo:
				x1, y1 := at(seg.Args[0])
				x2, y2 := at(seg.Args[1])
				x3, y3 := at(seg.Args[2])
				z.CubeTo(x1, y1, x2, y2, x3, y3)
			}
		}
		if open {
			z.ClosePath()
		}
	}
	mask := image.NewAlpha(image.Rect(0, 0, side, side))
	z.Draw(mask, mask.Bounds(), image.Opaque, image.Point{})
	g := image.NewGray(mask.Bounds())
	draw.Draw(g, g.Bounds(), image.White, image.Point{}, draw.Src)
	for i, a := range mask.Pix {
		g.Pix[i] = 255 - a
	}
	return glyph.Shapes(g, g.Bounds(), dark, max(2, int(size*size/2000)))
}

// prune drops templates that repeat one already kept with the same label
// (the same shape at another weight): they change no decision and weigh.
func prune(set []glyph.Template) []glyph.Template {
	var out []glyph.Template
	for _, t := range set {
		dup := false
		for i := range out {
			if out[i].Label == t.Label && glyph.Distance(&out[i].Features, &t.Features) < 1.5 {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, t)
		}
	}
	return out
}
