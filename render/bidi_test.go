package render

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/go-text/typesetting/bidi"
)

const ucdDir = "/usr/share/unicode"

// needTool fails the test when a required external tool is missing: these
// checks compare against real implementations and must not pass silently.
func needTool(t testing.TB, name, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s not found (Debian package %s); `make test` installs it", name, pkg)
	}
}

// TestBidiCharacterTest runs Unicode's conformance file for the bidi algorithm
// through our pipeline: go-text's levels, then our rules L1 and L2. The visual
// order of every line must match for at least 99.9% of the lines.
func TestBidiCharacterTest(t *testing.T) {
	path := ucdDir + "/BidiCharacterTest.txt"
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v: install Debian package unicode-data (`make test` does)", err)
	}
	defer f.Close()
	var rs resolver
	total, levelFail, orderFail := 0, 0, 0
	var firstFails []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		fields := strings.Split(line, ";")
		if len(fields) < 5 {
			t.Fatalf("bad line %q", line)
		}
		var text []rune
		for _, h := range strings.Fields(fields[0]) {
			v, err := strconv.ParseUint(h, 16, 32)
			if err != nil {
				t.Fatal(err)
			}
			text = append(text, rune(v))
		}
		dir := map[string]bidi.Direction{"0": bidi.LeftToRight, "1": bidi.RightToLeft, "2": bidi.Neutral}[fields[1]]
		// The resolved paragraph level is an input of line layout (L1); Sijill
		// always sets it (right-to-left), so for "auto" lines it is taken from the file.
		paraLevel, _ := strconv.Atoi(fields[2])
		want := strings.Fields(fields[3])
		total++
		levels := rs.resolve(text, dir)
		ok := len(levels) == len(want)
		for i := 0; ok && i < len(want); i++ {
			if want[i] != "x" && want[i] != strconv.Itoa(int(levels[i])) {
				ok = false
			}
		}
		if !ok {
			levelFail++
		}
		var got []string
		for _, i := range lineOrder(text, levels, bidi.Level(paraLevel), false) {
			if i < len(want) && want[i] != "x" {
				got = append(got, strconv.Itoa(i))
			}
		}
		if strings.Join(got, " ") != strings.Join(strings.Fields(fields[4]), " ") {
			orderFail++
			if len(firstFails) < 5 {
				firstFails = append(firstFails, line+"\n   got order: "+strings.Join(got, " "))
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if total < 90000 {
		t.Fatalf("only %d test lines read from %s", total, path)
	}
	rate := float64(total-orderFail) / float64(total)
	t.Logf("BidiCharacterTest: %d lines, %d wrong order, %d wrong levels: %.4f%% pass", total, orderFail, levelFail, 100*rate)
	if rate < 0.999 {
		t.Errorf("reordering passes %.4f%% of BidiCharacterTest.txt, want >= 99.9%%; first failures:\n%s", 100*rate, strings.Join(firstFails, "\n"))
	}
}

// mixedLines are the kinds of text a register holds: Arabic with Western and
// Eastern digits, dates, Latin names and acronyms, brackets, guillemets,
// lam-alef in all four forms, harakat, tatweel and Arabic punctuation.
var mixedLines = []string{
	"قرار رقم 117/2026 بتاريخ 2020/12/07",
	"دعوة إلى اجتماع المكتب السياسي (الدورة الثانية)",
	"إحالة محضر المجلس الوطني «الدورة العادية» إلى اللجنة التنفيذية",
	"طلب عرض أسعار لطباعة البطاقات PDF و ODT من شركة Imprimerie Atlas",
	"لا مانع من عقد الندوة الجهوية بمدينة بوزنيقة",
	"الأعضاء والإخوة والآباء: لأن لإن لآن",
	"بَيْتٌ جَمِيلٌ فِي المَدِينَةِ",
	"مُحَمَّدٌ رَسُولُ اللَّهِ",
	"الرقم ١١٧/٢٠٢٦ بتاريخ ٢٠٢٠/١٢/٠٧",
	"بتاريخ 7-12-2020 انعقد الاجتماع",
	"نسبة المشاركة 75% من الأعضاء",
	"الهاتف: +212 537 00 00 00",
	"السنوات 2017-2020 (أربع سنوات)",
	"راسلونا على secretariat@example.org أو https://example.org/contact",
	"الموقع https://hizb.ma/قرارات/2026 والبريد 2026.ali@hizb.ma (للاطلاع).",
	"الفترة 2017 - 2020 والصفحات 12–15 والسنوات ٢٠١٧-٢٠٢٠",
	"الرقم ك ج/١٤٧/٢٠٢٦ بتاريخ ٧-١٢-٢٠٢٠",
	"هل حضر الجميع؟ نعم، حضروا؛ شكراً",
	"الجـــــلسة المسائية",
	"[ملحق 3] {مسودة} <سري>",
	"المادة (12) من النظام الأساسي، الفقرة (أ)",
	"The party's National Council (المجلس الوطني) met in Bouznika",
	"ص.ب 1234 الرباط 10000",
	"المبلغ: 1,250.50 درهم",
	"«قرار رقم 45» و«قرار رقم 46»",
	"شارك 120 عضواً و15 عضوة",
	"لإعداد التقرير الأدبي لسنة 2025",
	"Imprimerie Atlas Ltd.",
	"2026 Imprimerie Atlas",
	"117/2026",
}

// TestFriBidi compares our shaping and reordering of whole lines with GNU
// FriBidi, a second implementation of both (`fribidi --nopad --wrtl`: the
// paragraph direction from its first strong character, right to left without one).
// FriBidi leaves U+FEFF where the alef of a lam-alef ligature was; we drop it.
func TestFriBidi(t *testing.T) {
	needTool(t, "fribidi", "libfribidi-bin")
	// FriBidi gets the lines with numbers and addresses isolated as Sijill
	// isolates them (see isolate), and leaves out the isolates as we do.
	var in []string
	for _, l := range mixedLines {
		if r := []rune(l); !firstStrongIsLTR(r) {
			l = string(isolate(r))
		}
		in = append(in, l)
	}
	cmd := exec.Command("fribidi", "--nopad", "--wrtl")
	cmd.Stdin = strings.NewReader(strings.Join(in, "\n") + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("fribidi: %v", err)
	}
	want := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(want) != len(mixedLines) {
		t.Fatalf("fribidi returned %d lines for %d", len(want), len(mixedLines))
	}
	var s shaper
	for i, in := range mixedLines {
		w := strings.NewReplacer("\uFEFF", "", "\u2066", "", "\u2069", "").Replace(want[i])
		if got := s.line(in); got != w {
			t.Errorf("line %q:\n got %q\nwant %q", in, got, w)
		}
	}
}

// TestBidiMarksNotDrawn: LRM, RLM and ALM inside a line order the text
// around them and are not drawn, as FriBidi --clean has it (FriBidi keeps
// ALM, which it does not know as a mark).
func TestBidiMarksNotDrawn(t *testing.T) {
	needTool(t, "fribidi", "libfribidi-bin")
	lines := []string{
		"رقم\u200e 117/2026 بتاريخ\u200f اليوم",
		"الأمانة\u061c العامة\u200f (الرباط)",
		"\u200fPDF\u200f و ODT",
	}
	cmd := exec.Command("fribidi", "--nopad", "--wrtl", "--clean")
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("fribidi: %v", err)
	}
	want := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	var s shaper
	for i, in := range lines {
		got := s.line(in)
		if strings.ContainsAny(got, "\u200e\u200f\u061c") {
			t.Errorf("line %q draws a bidi mark: %q", in, got)
		}
		w := strings.NewReplacer("\uFEFF", "", "\u061c", "").Replace(want[i])
		if got != w {
			t.Errorf("line %q:\n got %q\nwant %q", in, got, w)
		}
	}
}

func TestCanonical(t *testing.T) {
	var s shaper
	for _, tc := range []struct{ in, same string }{
		{"\u0627\u0644\u0627\u0654\u0639\u0636\u0627\u0621", "الأعضاء"}, // combining hamza
		{"\uFE8D\uFEF7\uFECB\uFEC0\uFE8E\uFE80", "الأعضاء"},             // pasted presentation forms
	} {
		if got, want := s.line(tc.in), s.line(tc.same); got != want {
			t.Errorf("%q prints as %q, want %q as for %q", tc.in, got, want, tc.same)
		}
	}
}

// TestWordLigatures: ﷺ and ﷲ print as the signs they are, not spelled out.
func TestWordLigatures(t *testing.T) {
	var s shaper
	for _, in := range []string{"محمد ﷺ", "بسم ﷲ"} {
		sign := []rune(in)[len([]rune(in))-1]
		if got := s.line(in); !strings.ContainsRune(got, sign) {
			t.Errorf("%q prints as %q, without its sign %U", in, got, sign)
		}
	}
}

// TestShape checks joining decisions a reader sees at once.
func TestShape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"بيت", "\uFE91\uFEF4\uFE96"},                // initial, medial, final
		{"دار", "\uFEA9\uFE8D\uFEAD"},                // dal and reh do not join forward
		{"لا", "\uFEFB"},                             // lam-alef isolated
		{"سلام", "\uFEB3\uFEFC\uFEE1"},               // lam-alef final after seen
		{"بَت", "\uFE91\u064E\uFE96"},                // fatha does not break the join
		{"ء", "ء"},                                   // hamza has no joined forms
		{"a-ب", "a-\uFE8F"},                          // Latin untouched, beh isolated
		{"بـ", "\uFE91\u0640"},                       // tatweel causes joining
		{"ب\u200Dب", "\uFE91\u200D\uFE90"},           // ZWJ forces the join
		{"ب\u200Cب", "\uFE8F\u200C\uFE8F"},           // ZWNJ prevents it
		{"لأعضاء", "\uFEF7\uFECB\uFEC0\uFE8E\u0621"}, // lam-alef-hamza then ain initial
	} {
		if got := string(shape(nil, []rune(tc.in))); got != tc.want {
			t.Errorf("shape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestIsolateNumbers: a telephone number or a date written with spaces
// reads as typed in an Arabic line; a number written without spaces, and a
// line without such a number, are left to UAX #9 alone.
func TestIsolateNumbers(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"الهاتف: +212 537 00 00 00", "الهاتف: \u2066+212 537 00 00 00\u2069"},
		{"بتاريخ 07 12 2026 انعقد", "بتاريخ \u206607 12 2026\u2069 انعقد"},
		{"الهاتف ٠٥٣٧ ٦٦ ٢١ ١٢ للتواصل", "الهاتف \u2066٠٥٣٧ ٦٦ ٢١ ١٢\u2069 للتواصل"},
		{"قرار رقم 117/2026 بتاريخ 2020/12/07", "قرار رقم 117/2026 بتاريخ 2020/12/07"},
		{"شارك 120 عضواً و15 عضوة", "شارك 120 عضواً و15 عضوة"},
		{"ص.ب 1234 الرباط 10000", "ص.ب 1234 الرباط 10000"},
		{"الفترة 2017 - 2020 كاملة", "الفترة \u20662017 - 2020\u2069 كاملة"},
		{"الصفحات 12–15 من التقرير", "الصفحات \u206612–15\u2069 من التقرير"},
		{"السنوات ٢٠١٧-٢٠٢٠", "السنوات \u2066٢٠١٧-٢٠٢٠\u2069"},
		{"السنوات 2017-2020 (أربع سنوات)", "السنوات 2017-2020 (أربع سنوات)"},
		{"المادة -5 من", "المادة -5 من"},
	} {
		if got := string(isolateNumbers([]rune(tc.in))); got != tc.want {
			t.Errorf("isolateNumbers(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// And the printed line reads the number left to right, as typed.
	var s shaper
	if got := s.line("الهاتف: +212 537 00 00 00"); !strings.HasPrefix(got, "+212 537 00 00 00 ") {
		t.Errorf("the telephone number prints as %q", got)
	}
	if got := s.line("الفترة 2017 - 2020 كاملة"); !strings.Contains(got, " 2017 - 2020 ") {
		t.Errorf("the range prints as %q", got)
	}
}

// TestIsolateLinks: a web or e-mail address in an Arabic line is one
// left-to-right island, without the brackets and punctuation around it.
func TestIsolateLinks(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"الموقع https://hizb.ma/decisions/2026 للاطلاع", "الموقع \u2066https://hizb.ma/decisions/2026\u2069 للاطلاع"},
		{"الموقع https://hizb.ma/قرارات/2026 للاطلاع", "الموقع https://hizb.ma/قرارات/2026 للاطلاع"}, // see isolateLinks
		{"البريد (2026.ali@hizb.ma).", "البريد (\u20662026.ali@hizb.ma\u2069)."},
		{"زوروا «www.hizb.ma»، شكراً", "زوروا «\u2066www.hizb.ma\u2069»، شكراً"},
		{"قرار رقم 117/2026 @ المقر", "قرار رقم 117/2026 @ المقر"},
		{"لا عنوان هنا", "لا عنوان هنا"},
	} {
		if got := string(isolateLinks([]rune(tc.in))); got != tc.want {
			t.Errorf("isolateLinks(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// The printed lines read each address whole, as typed.
	var s shaper
	for in, want := range map[string]string{
		"البريد 2026.ali@hizb.ma لكم": " 2026.ali@hizb.ma ",
	} {
		if got := s.line(in); !strings.Contains(got, want) {
			t.Errorf("%q prints as %q", in, got)
		}
	}
}
