package extract

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image"
	"io"
	"math"
	"strconv"
	"strings"
)

// ocrLine is a line of Tesseract's hOCR: its words in reading order.
type ocrLine struct {
	Box   image.Rectangle
	Words []ocrWord
}

// ocrWord is a word with its box, Tesseract's confidence (0-100) and its
// characters, each with the box Tesseract gives it (hocr_char_boxes).
type ocrWord struct {
	Box   image.Rectangle
	Conf  float64
	Chars []ocrChar
}

type ocrChar struct {
	Box  image.Rectangle
	Text string
}

// scaleLines multiplies the boxes of lines by f (1: left as they are).
func scaleLines(lines []ocrLine, f float64) {
	if f == 1 {
		return
	}
	sc := func(r image.Rectangle) image.Rectangle {
		return image.Rect(int(float64(r.Min.X)*f), int(float64(r.Min.Y)*f),
			int(math.Ceil(float64(r.Max.X)*f)), int(math.Ceil(float64(r.Max.Y)*f)))
	}
	for i := range lines {
		l := &lines[i]
		l.Box = sc(l.Box)
		for j := range l.Words {
			w := &l.Words[j]
			w.Box = sc(w.Box)
			for k := range w.Chars {
				w.Chars[k].Box = sc(w.Chars[k].Box)
			}
		}
	}
}

// Text is the word as Tesseract wrote it.
func (w ocrWord) Text() string {
	var b strings.Builder
	for _, c := range w.Chars {
		b.WriteString(c.Text)
	}
	return b.String()
}

// Text is the line as Tesseract writes it in its plain text: words parted by
// one space.
func (l ocrLine) Text() string {
	words := make([]string, len(l.Words))
	for i, w := range l.Words {
		words[i] = w.Text()
	}
	return strings.Join(words, " ")
}

// parseHOCR reads the lines of the first page of Tesseract's hOCR.
func parseHOCR(b []byte) ([]ocrLine, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	d.Entity = xml.HTMLEntity
	var lines []ocrLine
	var line *ocrLine
	var word *ocrWord
	var char *ocrChar
	pages := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return lines, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			var class, title string
			for _, a := range t.Attr {
				switch a.Name.Local {
				case "class":
					class = a.Value
				case "title":
					title = a.Value
				}
			}
			switch class {
			case "ocr_page":
				if pages++; pages > 1 {
					return lines, nil
				}
			case "ocr_line", "ocr_header", "ocr_caption", "ocr_textfloat":
				lines = append(lines, ocrLine{Box: titleBox(title, "bbox")})
				line, word, char = &lines[len(lines)-1], nil, nil
			case "ocrx_word":
				if line == nil {
					continue
				}
				line.Words = append(line.Words, ocrWord{Box: titleBox(title, "bbox"), Conf: titleNumber(title, "x_wconf")})
				word, char = &line.Words[len(line.Words)-1], nil
			case "ocrx_cinfo":
				if word == nil {
					continue
				}
				word.Chars = append(word.Chars, ocrChar{Box: titleBox(title, "x_bboxes")})
				char = &word.Chars[len(word.Chars)-1]
			}
		case xml.EndElement:
			if t.Name.Local == "span" && char != nil {
				char = nil
			}
		case xml.CharData:
			if char != nil {
				char.Text += string(t)
			}
		}
	}
}

// titleBox reads "key x0 y0 x1 y1" from an hOCR title.
func titleBox(title, key string) image.Rectangle {
	f := titleField(title, key)
	if len(f) < 4 {
		return image.Rectangle{}
	}
	var n [4]int
	for i := range n {
		n[i], _ = strconv.Atoi(f[i])
	}
	return image.Rect(n[0], n[1], n[2], n[3])
}

func titleNumber(title, key string) float64 {
	f := titleField(title, key)
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

func titleField(title, key string) []string {
	for part := range strings.SplitSeq(title, ";") {
		f := strings.Fields(part)
		if len(f) > 0 && f[0] == key {
			return f[1:]
		}
	}
	return nil
}
