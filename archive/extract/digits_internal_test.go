package extract

import (
	"image"
	"testing"
)

// word is a word as Tesseract's hOCR gives it, without boxes.
func word(text string, conf float64) ocrWord {
	var cs []ocrChar
	for _, r := range text {
		cs = append(cs, ocrChar{Text: string(r)})
	}
	return ocrWord{Conf: conf, Chars: cs}
}

func TestDoubtfulDigits(t *testing.T) {
	for _, tc := range []struct {
		text string
		conf float64
		want bool
	}{
		{"2020", 92, false},      // Western digits read with confidence: Tesseract reads them well
		{"2020", 60, true},       // unless it doubts them
		{"26/03/2020", 92, true}, // Tesseract reads Eastern dates as confident Western junk too; the reader leaves a Western run as read
		{"ع/201/2026", 85, true}, // a letter with a number: the number may be Eastern
		{"٠/١١١١", 93, true},     // the only Eastern digits Tesseract knows, where others were
		{"VlV/g.p/08", 80, true}, // Latin junk
		{"الأمانة", 95, false},
		{"اد", 30, true}, // digits read as Arabic-looking junk are only told by doubt
	} {
		if got := doubtfulDigits(word(tc.text, tc.conf)); got != tc.want {
			t.Errorf("doubtfulDigits(%q, %.0f) = %v, want %v", tc.text, tc.conf, got, tc.want)
		}
	}
}

func TestParseHOCR(t *testing.T) {
	const hocr = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html><body>
<div class='ocr_page' title='bbox 0 0 2480 3508'>
 <span class='ocr_line' title="bbox 1706 534 2197 612; baseline 0 -3">
  <span class='ocrx_word' title='bbox 2095 540 2197 612; x_wconf 92'>
   <span class='ocrx_cinfo' title='x_bboxes 2109 562 2169 612; x_conf 99'>ج</span>
   <span class='ocrx_cinfo' title='x_bboxes 2095 556 2102 581; x_conf 98'>:</span>
  </span>
  <span class='ocrx_word' title='bbox 1706 537 1921 589; x_wconf 4'>
   <span class='ocrx_cinfo' title='x_bboxes 1706 546 1766 583; x_conf 91'>٠</span>
   <span class='ocrx_cinfo' title='x_bboxes 1776 537 1824 589; x_conf 86'>/</span>
  </span>
 </span>
</div>
<div class='ocr_page' title='bbox 0 0 2480 3508'><span class='ocr_line' title="bbox 1 1 2 2"></span></div>
</body></html>`
	lines, err := parseHOCR([]byte(hocr))
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || len(lines[0].Words) != 2 {
		t.Fatalf("lines %+v, want one line of two words (the second page is not read)", lines)
	}
	l := lines[0]
	if l.Text() != "ج: ٠/" || l.Words[1].Conf != 4 || l.Words[1].Chars[0].Box != image.Rect(1706, 546, 1766, 583) || l.Box != image.Rect(1706, 534, 2197, 612) {
		t.Errorf("line %q %+v", l.Text(), l)
	}
}

func TestLatinJunk(t *testing.T) {
	arabic := ocrLine{Words: []ocrWord{word("ينظم", 90), word("الفرع", 91), word("الإقليمي", 88), word("ملتقى", 92),
		word("Lope", 31), word("بمدينة", 85), word("تطوان", 80), word("لتكريم", 90), word("المناضلين", 93)}}
	stamp := ocrLine{Words: []ocrWord{word("oral", 45)}}
	address := ocrLine{Words: []ocrWord{word("contact@pam.ma", 91)}}
	more := ocrLine{Words: []ocrWord{word("وتفضلوا", 90), word("بقبول", 91), word("فائق", 88), word("عبارات", 92), word("التقدير", 90)}}
	text := "ينظم الفرع الإقليمي ملتقى Lope بمدينة تطوان لتكريم المناضلين\noral\nوتفضلوا بقبول فائق عبارات التقدير\ncontact@pam.ma"
	got := finish(pageReading{text: []byte(text), lines: []ocrLine{arabic, stamp, more, address}}, nil, nil)
	want := "ينظم الفرع الإقليمي ملتقى بمدينة تطوان لتكريم المناضلين\n\nوتفضلوا بقبول فائق عبارات التقدير\ncontact@pam.ma"
	if string(got) != want {
		t.Errorf("read\n%s\nwant\n%s", got, want)
	}
	// A page in French keeps its doubtful words: they are its text.
	french := ocrLine{Words: []ocrWord{word("Objet", 90), word("convocation", 55), word("réunion", 40)}}
	text = "Objet convocation réunion"
	if got := finish(pageReading{text: []byte(text), lines: []ocrLine{french}}, nil, nil); string(got) != text {
		t.Errorf("a French page read %q, want it as Tesseract read it", got)
	}
}
