package extract

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"image/draw"
	_ "image/jpeg" // scans and photos
	_ "image/png"

	_ "golang.org/x/image/tiff" // so checkImageSize knows their dimensions
	_ "golang.org/x/image/webp"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// maxXML bounds how much of an office document's XML is read, all parts
// together, so a zip bomb costs a bounded amount of work and memory: a
// letter's XML is a few hundred KB; 16 MB is a book.
const maxXML = 16 << 20

// errTooLarge marks a file refused for its size before it is decoded.
var errTooLarge = errors.New("the file is too large to read")

// docxText reads the paragraphs of a Word document's body, footnotes and
// endnotes: the w:t runs, with w:tab and w:br as white space.
func docxText(path string) (Result, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return Result{}, fmt.Errorf("the DOCX file is damaged: %w", err)
	}
	defer zr.Close()
	var b strings.Builder
	found := false
	budget := int64(maxXML)
	for _, name := range []string{"word/document.xml", "word/footnotes.xml", "word/endnotes.xml"} {
		f := findZip(&zr.Reader, name)
		if f == nil {
			continue
		}
		found = true
		if err := xmlText(f, &b, &budget, map[string]bool{"t": true}, map[string]bool{"p": true, "br": true, "cr": true}, map[string]bool{"tab": true}); err != nil {
			return Result{}, fmt.Errorf("the DOCX file is damaged or too large: %s: %w", name, err)
		}
	}
	if !found {
		return Result{}, errors.New("the DOCX file has no word/document.xml")
	}
	return Result{Text: b.String(), Pages: 1, Method: "xml"}, nil
}

// odtText reads an OpenDocument text's content.xml: every character of the
// body, paragraphs and headings on lines, text:s and text:tab as spaces.
func odtText(path string) (Result, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return Result{}, fmt.Errorf("the ODT file is damaged: %w", err)
	}
	defer zr.Close()
	f := findZip(&zr.Reader, "content.xml")
	if f == nil {
		return Result{}, errors.New("the ODT file has no content.xml")
	}
	var b strings.Builder
	budget := int64(maxXML)
	if err := xmlText(f, &b, &budget, nil, map[string]bool{"p": true, "h": true, "line-break": true}, map[string]bool{"s": true, "tab": true}); err != nil {
		return Result{}, fmt.Errorf("the ODT file is damaged or too large: %w", err)
	}
	return Result{Text: b.String(), Pages: 1, Method: "xml"}, nil
}

func findZip(zr *zip.Reader, name string) *zip.File {
	for _, f := range zr.File {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// xmlText writes the character data of f to b: only inside elements named in
// textIn (by local name) when textIn is non-nil, everywhere otherwise; a
// newline after each element in lineAfter, a space for each in space. At
// most *budget bytes are inflated (less what this part took); more is an
// error, not a silently shortened text.
func xmlText(f *zip.File, b *strings.Builder, budget *int64, textIn, lineAfter, space map[string]bool) error {
	if f.UncompressedSize64 > uint64(*budget) {
		return fmt.Errorf("%w: its XML inflates to %d MB (at most %d MB are read)", errTooLarge, f.UncompressedSize64>>20, maxXML>>20)
	}
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	lr := &io.LimitedReader{R: rc, N: *budget + 1}
	defer func() { *budget = max(lr.N-1, 0) }()
	dec := xml.NewDecoder(lr)
	depth := 0 // depth inside a textIn element
	for {
		tok, err := dec.Token()
		if lr.N <= 0 {
			return fmt.Errorf("%w: its XML inflates to more than %d MB", errTooLarge, maxXML>>20)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if textIn[t.Name.Local] {
				depth++
			}
			if space[t.Name.Local] {
				b.WriteByte(' ')
			}
		case xml.EndElement:
			if textIn[t.Name.Local] {
				depth--
			}
			if lineAfter[t.Name.Local] {
				b.WriteByte('\n')
			}
		case xml.CharData:
			if textIn == nil || depth > 0 {
				b.Write(t)
			}
		}
	}
}

// tiffPages counts the images of a TIFF by walking its chain of directories,
// so a multi-page scan gets a time limit per page.
func tiffPages(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	bo, off, err := tiffHeader(f)
	if err != nil {
		return 0, err
	}
	seen := map[int64]bool{}
	n := 0
	for off != 0 && n < 10000 {
		if seen[off] {
			return 0, errors.New("the TIFF file is damaged: its pages loop")
		}
		seen[off] = true
		var cnt [2]byte
		if _, err := f.ReadAt(cnt[:], off); err != nil {
			return 0, errors.New("the TIFF file is damaged: a page directory is missing")
		}
		entries := int64(bo.Uint16(cnt[:]))
		if err := checkTIFFPage(f, bo, off, entries, n+1); err != nil {
			return 0, err
		}
		var next [4]byte
		if _, err := f.ReadAt(next[:], off+2+12*entries); err != nil {
			return 0, errors.New("the TIFF file is damaged: a page directory is cut short")
		}
		n++
		off = int64(bo.Uint32(next[:]))
	}
	return max(n, 1), nil
}

// tiffHeader reads a TIFF's byte order and where its first page directory
// is.
func tiffHeader(f *os.File) (binary.ByteOrder, int64, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		return nil, 0, errors.New("the TIFF file is damaged: too short")
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if bytes.HasPrefix(hdr[:], []byte("MM")) {
		bo = binary.BigEndian
	}
	return bo, int64(bo.Uint32(hdr[4:])), nil
}

// tiffDPI returns the resolution the first page of a TIFF states (its
// XResolution in its ResolutionUnit), or 0.
func tiffDPI(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	bo, off, err := tiffHeader(f)
	if err != nil {
		return 0
	}
	var cnt [2]byte
	if _, err := f.ReadAt(cnt[:], off); err != nil {
		return 0
	}
	entries := min(int64(bo.Uint16(cnt[:])), 4096)
	dir := make([]byte, 12*entries)
	if _, err := f.ReadAt(dir, off+2); err != nil {
		return 0
	}
	var res float64
	unit := uint16(2) // TIFF's default unit is the inch
	for e := range entries {
		ent := dir[12*e:]
		switch bo.Uint16(ent) {
		case 282: // XResolution, a RATIONAL stored where the entry points
			var r [8]byte
			if _, err := f.ReadAt(r[:], int64(bo.Uint32(ent[8:]))); err == nil && bo.Uint32(r[4:]) != 0 {
				res = float64(bo.Uint32(r[:])) / float64(bo.Uint32(r[4:]))
			}
		case 296: // ResolutionUnit: 1 none, 2 inch, 3 centimetre
			unit = bo.Uint16(ent[8:])
		}
	}
	switch unit {
	case 3:
		res *= 2.54
	case 2:
	default:
		return 0
	}
	if res < 70 || res > 2400 {
		return 0
	}
	return int(res + 0.5)
}

// checkTIFFPage refuses a TIFF page (an image file directory of entries
// entries at off) declaring more than maxPixels.
func checkTIFFPage(f *os.File, bo binary.ByteOrder, off, entries int64, page int) error {
	if entries > 4096 {
		return errors.New("the TIFF file is damaged: a page directory is too long")
	}
	dir := make([]byte, 12*entries)
	if _, err := f.ReadAt(dir, off+2); err != nil {
		return errors.New("the TIFF file is damaged: a page directory is cut short")
	}
	var w, h uint64
	for e := range entries {
		ent := dir[12*e:]
		tag, typ := bo.Uint16(ent), bo.Uint16(ent[2:])
		var v uint64
		switch typ {
		case 3: // SHORT
			v = uint64(bo.Uint16(ent[8:]))
		case 4: // LONG
			v = uint64(bo.Uint32(ent[8:]))
		default:
			continue
		}
		switch tag {
		case 256:
			w = v
		case 257:
			h = v
		}
	}
	if w*h > maxPixels {
		return fmt.Errorf("%w: page %d of the TIFF is %d × %d pixels (at most %d million are read)", errTooLarge, page, w, h, maxPixels>>20)
	}
	return nil
}

// guessDPI is the resolution of an image that does not state one, taken as
// a page of A4 or Letter whose shorter side the image spans (a phone photo,
// a scanner that wrote no density): between readDPI and ocrDPI, so that a
// page of 1654 pixels is not shrunk as if it were a 300 dpi scan (its text
// would be read at 160 dpi), and a crop of a page is not taken as coarse.
// cfg is the size the image declares (see checkImageSize; zero: unknown).
func guessDPI(cfg image.Config) int {
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return ocrDPI
	}
	const pageInches = 8.27 // A4's width; Letter's is 8.5
	return max(readDPI, min(ocrDPI, int(float64(min(cfg.Width, cfg.Height))/pageInches)))
}

// imageDPI returns the resolution an image states (a PNG's pHYs, a JPEG's
// JFIF density), or 0; Tesseract would otherwise assume 70 dpi.
func imageDPI(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	head := make([]byte, 64<<10)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	credible := func(dpi float64) int {
		if dpi >= 70 && dpi <= 2400 {
			return int(dpi + 0.5)
		}
		return 0
	}
	switch {
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		for p := 8; p+12 <= len(head); {
			l := int(binary.BigEndian.Uint32(head[p:]))
			typ := string(head[p+4 : p+8])
			if typ == "pHYs" && p+17 <= len(head) && head[p+16] == 1 {
				return credible(float64(binary.BigEndian.Uint32(head[p+8:])) * 0.0254)
			}
			if typ == "IDAT" || l < 0 || l > len(head) {
				return 0
			}
			p += 12 + l
		}
	case bytes.HasPrefix(head, []byte("\xff\xd8\xff\xe0")) && len(head) >= 18 && string(head[6:11]) == "JFIF\x00":
		x := float64(binary.BigEndian.Uint16(head[14:]))
		switch head[13] {
		case 1:
			return credible(x)
		case 2:
			return credible(x * 2.54)
		}
	}
	return 0
}

// maxPixels bounds the images read: decoding allocates a byte (grey) to
// four (colour) per pixel, and Tesseract several times that. 64 million
// pixels is an A1 sheet at 300 dpi; an A4 letter at 300 dpi is 8.7 million.
const maxPixels = 64 << 20

// checkImageSize refuses an image whose header declares more than maxPixels,
// before anything is decoded: a 1.6 MB PNG can declare 40000 × 40000. It
// returns the size declared (zero for an image Go does not know), from
// which guessDPI guesses a resolution the image does not state.
func checkImageSize(path string) (image.Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return image.Config{}, err
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(bufio.NewReader(f))
	if err != nil {
		return image.Config{}, nil // not an image Go knows: Tesseract will say what is wrong
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return cfg, fmt.Errorf("%w: the image is %d × %d pixels (at most %d million are read)",
			errTooLarge, cfg.Width, cfg.Height, maxPixels>>20)
	}
	return cfg, nil
}

// denoise writes a grey copy of the image at in (PNG, JPEG, a TIFF page or
// the PGM pdftoppm makes) to out as PGM, through a 3x3 median filter. Scanners and
// photocopiers leave specks that Tesseract's binarisation turns into dots,
// and in Arabic a stray dot changes the letter (ب ت ث ن ي differ by their
// dots alone); the median removes isolated specks while keeping the dots of
// letters, which are several pixels wide at 300 dpi. On the spoiled test page
// (1% speckles) it took the body line from unreadable to read whole.
//
// A page known to be finer than readDPI (dpi; 0 if unknown) is written
// shrunk to readDPI (see readDPI); denoise returns the resolution it wrote
// and how many of the image's pixels one written pixel spans (1 if not
// shrunk). It returns the image as decoded and as filtered, both at full
// resolution (the digit reader and the punctuation look at them), nil for an
// image Go cannot decode (WebP, a TIFF in JPEG): that is read as is. A TIFF
// is decoded by its first page: the caller gives it one page at a time.
func denoise(in, out string, dpi int) (raw, filtered *image.Gray, outDPI int, scale float64, err error) {
	f, err := os.Open(in)
	if err != nil {
		return nil, nil, dpi, 1, err
	}
	defer f.Close()
	var g *image.Gray
	br := bufio.NewReader(f)
	head, _ := br.Peek(8)
	switch {
	case bytes.HasPrefix(head, []byte("P5")):
		g, err = readPGM(br)
	case bytes.HasPrefix(head, []byte("\x89PNG")), bytes.HasPrefix(head, []byte("\xff\xd8\xff")),
		bytes.HasPrefix(head, []byte("II*\x00")), bytes.HasPrefix(head, []byte("MM\x00*")): // TIFF: its first page
		var img image.Image
		img, _, err = image.Decode(br)
		if err == nil {
			g = toGray(img)
		}
	default:
		return nil, nil, dpi, 1, nil // WebP: Tesseract reads it as it is
	}
	if err != nil {
		return nil, nil, dpi, 1, nil // let Tesseract try it and say what is wrong
	}
	m := median3(g)
	read, scale := m, 1.0
	if dpi > readDPI*11/10 {
		b := m.Bounds()
		read = shrink(m, b.Dx()*readDPI/dpi, b.Dy()*readDPI/dpi)
		scale, dpi = float64(b.Dx())/float64(read.Bounds().Dx()), readDPI
	}
	if err := writePGM(out, read); err != nil {
		return nil, nil, dpi, 1, err
	}
	return g, m, dpi, scale, nil
}

// writePGM writes g to path as a binary PGM, which Tesseract reads without
// decoding a compressed format.
func writePGM(path string, g *image.Gray) error {
	w, h := g.Bounds().Dx(), g.Bounds().Dy()
	o, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(o, 1<<20)
	fmt.Fprintf(bw, "P5\n%d %d\n255\n", w, h)
	for y := range h {
		bw.Write(g.Pix[y*g.Stride : y*g.Stride+w])
	}
	if err := bw.Flush(); err != nil {
		o.Close()
		return err
	}
	return o.Close()
}

// decodeGray decodes the first page of an image Go knows (a TIFF among
// them) in grey, nil if it cannot.
func decodeGray(path string) *image.Gray {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	img, _, err := image.Decode(bufio.NewReader(f))
	if err != nil {
		return nil
	}
	return toGray(img)
}

func toGray(img image.Image) *image.Gray {
	if g, ok := img.(*image.Gray); ok {
		return g
	}
	b := img.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(g, g.Bounds(), img, b.Min, draw.Src)
	return g
}

// readPGM reads a binary 8-bit PGM, as pdftoppm -gray writes it.
func readPGM(r *bufio.Reader) (*image.Gray, error) {
	var nums [4]int
	for i := range nums {
		tok, err := pgmToken(r)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			if tok != "P5" {
				return nil, errors.New("not a binary PGM")
			}
			continue
		}
		if nums[i], err = strconv.Atoi(tok); err != nil {
			return nil, err
		}
	}
	w, h, maxv := nums[1], nums[2], nums[3]
	if maxv != 255 || w <= 0 || h <= 0 || w*h > 200<<20 {
		return nil, errors.New("unsupported PGM")
	}
	g := image.NewGray(image.Rect(0, 0, w, h))
	if _, err := io.ReadFull(r, g.Pix); err != nil {
		return nil, err
	}
	return g, nil
}

// pgmToken reads one header token and the single white space after it.
func pgmToken(r *bufio.Reader) (string, error) {
	var b []byte
	for {
		c, err := r.ReadByte()
		if err != nil {
			return "", err
		}
		switch {
		case c == '#' && len(b) == 0:
			if _, err := r.ReadString('\n'); err != nil {
				return "", err
			}
		case c == ' ' || c == '\n' || c == '\r' || c == '\t':
			if len(b) > 0 {
				return string(b), nil
			}
		default:
			b = append(b, c)
			if len(b) > 16 {
				return "", errors.New("bad PGM header")
			}
		}
	}
}

// median3 is the 3x3 median of g, edges clamped. Each column of three is
// sorted once for the three windows that share it; the median of the nine
// is then the median of the largest of the columns' smallest, the median of
// their middles and the smallest of their largest (Paeth's trick): about a
// third of the comparisons of a 19-exchange network per pixel. The values
// are compared as int32, which Go compiles to conditional moves (uint8 to
// branches, which a scan's noisy grey makes unpredictable). BenchmarkMedian3,
// a noisy 300 dpi A4 page: 39 ms, was 510 ms with the network on uint8 —
// a quarter of the page's whole reading time outside Tesseract.
func median3(g *image.Gray) *image.Gray {
	b := g.Bounds()
	w, h := b.Dx(), b.Dy()
	out := image.NewGray(image.Rect(0, 0, w, h))
	row := func(y int) []uint8 {
		y = min(max(y, 0), h-1)
		return g.Pix[y*g.Stride : y*g.Stride+w]
	}
	// The sorted columns of the row, with the edge column repeated on
	// either side.
	lo, md, hi := make([]int32, w+2), make([]int32, w+2), make([]int32, w+2)
	for y := range h {
		if y%32 == 31 {
			// About a millisecond of work: let waiting requests have the P.
			runtime.Gosched()
		}
		up, mid, down := row(y-1), row(y), row(y+1)
		for x := range w {
			a, c, d := int32(up[x]), int32(mid[x]), int32(down[x])
			a, c = min(a, c), max(a, c)
			c, d = min(c, d), max(c, d)
			a, c = min(a, c), max(a, c)
			lo[x+1], md[x+1], hi[x+1] = a, c, d
		}
		lo[0], md[0], hi[0] = lo[1], md[1], hi[1]
		lo[w+1], md[w+1], hi[w+1] = lo[w], md[w], hi[w]
		o := out.Pix[y*out.Stride : y*out.Stride+w]
		for x := range w {
			l, m, r := lo[x:x+3], md[x:x+3], hi[x:x+3]
			o[x] = uint8(med3(max(l[0], l[1], l[2]), med3(m[0], m[1], m[2]), min(r[0], r[1], r[2])))
		}
	}
	return out
}

// med3 is the median of three.
func med3(a, b, c int32) int32 {
	return max(min(a, b), min(max(a, b), c))
}
