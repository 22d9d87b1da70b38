package workload

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"math/rand/v2"
)

// scanFile is one generated upload.
type scanFile struct {
	name, ctype string
	data        []byte
}

// Pages returns n generated page scans: white A4-ish greyscale pages at about
// 100 dpi with dark "lines of text" and some scanner noise, encoded as PNG
// (about 100 KB each, like a compressed scan of a letter). Cheap enough to make
// for every Workload, also under the race detector.
func Pages(n int, seed uint64) [][]byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	const w, h = 850, 1100
	out := make([][]byte, n)
	for i := range out {
		img := image.NewGray(image.Rect(0, 0, w, h))
		for j := range img.Pix {
			img.Pix[j] = 0xff
		}
		for range w * h / 25 { // scanner dust
			img.Pix[rng.IntN(len(img.Pix))] = uint8(0x90 + rng.IntN(0x60))
		}
		for y := 120; y < 1000; y += 28 { // right-to-left lines of words
			for x := 760; x > 90; {
				ww := 12 + rng.IntN(60)
				ink := uint8(rng.IntN(60))
				for yy := y; yy < y+14; yy++ {
					row := img.Pix[yy*img.Stride : (yy+1)*img.Stride]
					for xx := max(x-ww, 90); xx < x; xx++ {
						row[xx] = ink
					}
				}
				x -= ww + 8 + rng.IntN(10)
			}
		}
		var buf bytes.Buffer
		enc := png.Encoder{CompressionLevel: png.BestSpeed}
		if err := enc.Encode(&buf, img); err != nil {
			panic(err) // encoding an in-memory image cannot fail
		}
		out[i] = buf.Bytes()
	}
	return out
}

// uniquePNG returns page with a tEXt chunk naming tag inserted before IEND, so
// each upload has its own bytes and hash while staying a valid PNG.
func uniquePNG(page []byte, tag string) []byte {
	iend := len(page) - 12 // IEND is the last chunk: length, type, CRC, no data
	data := append([]byte("Comment\x00"), tag...)
	chunk := make([]byte, 0, 12+len(data))
	chunk = binary.BigEndian.AppendUint32(chunk, uint32(len(data)))
	typed := append([]byte("tEXt"), data...)
	chunk = append(chunk, typed...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(typed))
	out := make([]byte, 0, len(page)+len(chunk))
	out = append(out, page[:iend]...)
	out = append(out, chunk...)
	return append(out, page[iend:]...)
}

// uniquePDF returns a small one-page PDF whose bytes carry tag, padded with a
// stream of filler to about size bytes (a scanned page's weight).
func uniquePDF(tag string, size int, rng *rand.Rand) []byte {
	filler := make([]byte, size)
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], rng.Uint64())
	rand.NewChaCha8(seed).Read(filler)
	var b bytes.Buffer
	fmt.Fprintf(&b, "%%PDF-1.4\n%% %s\n", tag)
	fmt.Fprintf(&b, "1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n")
	fmt.Fprintf(&b, "2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n")
	fmt.Fprintf(&b, "3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj\n")
	fmt.Fprintf(&b, "4 0 obj << /Length %d >> stream\n", len(filler))
	b.Write(filler)
	fmt.Fprintf(&b, "\nendstream endobj\ntrailer << /Root 1 0 R >>\n%%%%EOF\n")
	return b.Bytes()
}
