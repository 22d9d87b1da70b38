package archive

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Suggestion is what the text of a scanned letter suggests for its entry in
// the incoming register: drafts the registration form is filled with, for
// the secretary to check. Nothing here is ever saved unless they submit it.
type Suggestion struct {
	From          string `json:"from,omitempty"`
	Reference     string `json:"reference,omitempty"`
	ReferenceDate string `json:"reference_date,omitempty"`
	Subject       string `json:"subject,omitempty"`
}

// The labels an Arab administration's letter puts before its reference, its
// date, its subject and its sender. Compared after foldLabel (no hamza forms,
// no tatweel, no harakat), so "الرقم" and "الـرقم" are one.
var (
	refLabels     = []string{"المرجع", "مرجعنا", "الرقم", "رقم", "رقمنا", "رقم الارسال", "رقم الصادر", "العدد", "عدد", "الاشاره", "اشارتنا", "ن/ر", "ر/ن"}
	dateLabels    = []string{"التاريخ", "بتاريخ", "تاريخ", "حرر في", "في"}
	subjectLabels = []string{"الموضوع", "موضوع", "بشان", "الموضوع العام"}
	fromLabels    = []string{"من", "المرسل", "الجهه المرسله"}
	// The salutation and what follows are the letter's body: its lines are
	// no subject, and nothing after them is looked at for one.
	bodyStarts = []string{"تحيه طيبه", "السلام عليكم", "بعد التحيه", "تحيه واحتراما", "وبعد"}
)

// SuggestIncoming reads the text of a scanned letter (its OCR) for the
// sender, the sender's reference and its date, and the subject. A labelled
// line ("المرجع: …", "التاريخ: …", "الموضوع: …") wins; without a subject
// label, the first lines of the text after the letterhead are the draft.
// The sender is a "من:" line, else the letterhead's first line.
func SuggestIncoming(text string) Suggestion {
	var sg Suggestion
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.Join(strings.Fields(strings.Map(dropBidiMarks, l)), " "); l != "" {
			lines = append(lines, l)
		}
	}
	bodyAt := len(lines)
	for i, l := range lines {
		label, value := splitLabel(l)
		switch {
		case sg.Reference == "" && hasLabel(refLabels, label) && value != "":
			sg.Reference = cleanReference(value)
		case sg.ReferenceDate == "" && hasLabel(dateLabels, label) && value != "":
			sg.ReferenceDate = findDate(value)
		case sg.Subject == "" && hasLabel(subjectLabels, label) && value != "":
			sg.Subject = value
		case sg.From == "" && hasLabel(fromLabels, label) && value != "":
			sg.From = value
		}
		if bodyAt == len(lines) && startsBody(l) {
			bodyAt = i
		}
	}
	if sg.ReferenceDate == "" {
		// An unlabelled date in the letter's head: "الرباط في 12/03/2026".
		for _, l := range lines[:min(bodyAt, 8)] {
			if d := findDate(l); d != "" {
				sg.ReferenceDate = d
				break
			}
		}
	}
	if sg.From == "" && len(lines) > 0 && bodyAt > 0 {
		if label, _ := splitLabel(lines[0]); !hasLabel(refLabels, label) && !hasLabel(dateLabels, label) && letterShare(lines[0]) > 0.6 {
			sg.From = lines[0]
		}
	}
	if sg.Subject == "" {
		// The first lines of the text that are not its head: a draft.
		var b []string
		for _, l := range lines[min(bodyAt, len(lines)):] {
			if startsBody(l) || letterShare(l) < 0.6 {
				continue
			}
			b = append(b, l)
			if utf8.RuneCountInString(strings.Join(b, " ")) > 80 {
				break
			}
		}
		sg.Subject = strings.Join(b, " ")
	}
	sg.Subject = truncateRunes(sg.Subject, 200)
	sg.From = truncateRunes(sg.From, 120)
	sg.Reference = truncateRunes(sg.Reference, 60)
	return sg
}

// dropBidiMarks removes the direction marks and embeddings a PDF's text
// layer or OCR puts around words: they are invisible, and a form field
// holding one would not match what the secretary types.
func dropBidiMarks(r rune) rune {
	switch {
	case r == '\u200e' || r == '\u200f' || r == '\u061c', r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return -1
	}
	return r
}

// splitLabel cuts "الموضوع: نص" into its folded label and its value; a line
// without a colon has the whole line as its label and no value.
func splitLabel(line string) (label, value string) {
	i := strings.IndexAny(line, ":：")
	if i < 0 {
		return foldLabel(line), ""
	}
	return foldLabel(line[:i]), strings.TrimSpace(strings.Trim(line[i+1:], " .،-–؛;:|"))
}

func hasLabel(labels []string, label string) bool {
	for _, l := range labels {
		if label == l {
			return true
		}
	}
	return false
}

func startsBody(line string) bool {
	f := foldLabel(line)
	for _, b := range bodyStarts {
		if strings.HasPrefix(f, b) {
			return true
		}
	}
	return false
}

// foldLabel folds the spellings of a label: hamza forms to their bare
// letter, ta marbuta to ha, no tatweel or harakat, single spaces.
func foldLabel(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r == 'أ' || r == 'إ' || r == 'آ':
			r = 'ا'
		case r == 'ة':
			r = 'ه'
		case r == 'ى':
			r = 'ي'
		case r == 'ـ' || unicode.Is(unicode.Mn, r):
			continue
		}
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// cleanReference keeps a reference as written, minus what OCR or a line's
// end leaves around it.
func cleanReference(s string) string {
	return strings.Trim(s, " .,،:;؛")
}

var (
	dmyDate = regexp.MustCompile(`(\d{1,2})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{4})`)
	ymdDate = regexp.MustCompile(`(\d{4})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})`)
	// "15 مارس 2026", "١٥ آذار ٢٠٢٦": a day, a month's name, a year.
	namedDate = regexp.MustCompile(`(\d{1,2})\s+(\p{Arabic}+)\s+(\d{4})`)
)

// monthNames are the Gregorian months as the Maghreb, Egypt and the Levant
// (and Iraq) name them, folded like labels.
var monthNames = map[string]int{
	"يناير": 1, "فبراير": 2, "مارس": 3, "ابريل": 4, "مايو": 5, "ماي": 5, "يونيو": 6, "يونيه": 6,
	"يوليو": 7, "يوليوز": 7, "يوليه": 7, "اغسطس": 8, "غشت": 8, "سبتمبر": 9, "شتنبر": 9,
	"اكتوبر": 10, "نوفمبر": 11, "نونبر": 11, "ديسمبر": 12, "دجنبر": 12,
	"كانون الثاني": 1, "شباط": 2, "اذار": 3, "نيسان": 4, "ايار": 5, "حزيران": 6, "تموز": 7, "اب": 8,
	"ايلول": 9, "تشرين الاول": 10, "تشرين الثاني": 11, "كانون الاول": 12,
}

// findDate finds the first Gregorian date in s (day/month/year, year-month-day
// or a day, a month's name and a year, in Western or Eastern digits) and
// returns it as YYYY-MM-DD, or "" if there is none that exists.
func findDate(s string) string {
	s = strings.Map(LatinDigit, s)
	type match struct {
		at      int
		y, m, d int
	}
	var best *match
	try := func(at, y, m, d int) {
		if best == nil || at < best.at {
			best = &match{at, y, m, d}
		}
	}
	if m := dmyDate.FindStringSubmatchIndex(s); m != nil {
		d, mo, y := atoi(s[m[2]:m[3]]), atoi(s[m[4]:m[5]]), atoi(s[m[6]:m[7]])
		try(m[0], y, mo, d)
	}
	if m := ymdDate.FindStringSubmatchIndex(s); m != nil {
		try(m[0], atoi(s[m[2]:m[3]]), atoi(s[m[4]:m[5]]), atoi(s[m[6]:m[7]]))
	}
	if m := namedDate.FindStringSubmatchIndex(s); m != nil {
		if mo, ok := monthNames[foldLabel(s[m[4]:m[5]])]; ok {
			try(m[0], atoi(s[m[6]:m[7]]), mo, atoi(s[m[2]:m[3]]))
		}
	}
	if best == nil || best.y < 1900 || best.y > 2200 {
		return ""
	}
	t := time.Date(best.y, time.Month(best.m), best.d, 0, 0, 0, 0, time.UTC)
	if t.Day() != best.d || int(t.Month()) != best.m {
		return "" // 31/02, 13th month: not a date
	}
	return fmt.Sprintf("%04d-%02d-%02d", best.y, best.m, best.d)
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// letterShare is the share of letters among a line's non-space characters:
// a letterhead's rules and OCR's junk have few.
func letterShare(s string) float64 {
	var letters, all int
	for _, r := range s {
		if unicode.IsSpace(r) {
			continue
		}
		all++
		if unicode.IsLetter(r) {
			letters++
		}
	}
	if all == 0 {
		return 0
	}
	return float64(letters) / float64(all)
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
