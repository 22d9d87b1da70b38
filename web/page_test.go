package web

import (
	"html/template"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/archive/importer"
)

// TestCatalogues checks that every language has every message, that a
// translation takes the same arguments as the Arabic, and that every key the
// templates name (literally or by a known family) exists.
func TestCatalogues(t *testing.T) {
	cats, err := loadCatalogues()
	if err != nil {
		t.Fatal(err)
	}
	ar := cats["ar"]
	verbs := regexp.MustCompile(`%[dsvq]`)
	for _, lang := range languages {
		c := cats[lang]
		for k, v := range ar.msgs {
			tr, ok := c.msgs[k]
			if !ok {
				t.Errorf("%s lacks %q", lang, k)
				continue
			}
			if strings.TrimSpace(tr) == "" {
				t.Errorf("%s: %q is empty", lang, k)
			}
			if a, b := verbs.FindAllString(v, -1), verbs.FindAllString(tr, -1); strings.Join(a, "") != strings.Join(b, "") {
				t.Errorf("%s: %q takes %v, the Arabic %v", lang, k, b, a)
			}
		}
		for k := range c.msgs {
			if _, ok := ar.msgs[k]; !ok {
				t.Errorf("%s has %q, which the Arabic lacks", lang, k)
			}
		}
	}

	used := map[string]bool{}
	literal := regexp.MustCompile(`\.T "([a-z0-9_.]+)"`)
	err = fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := templateFS.ReadFile(p)
		for _, m := range literal.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(used) < 100 {
		t.Fatalf("found only %d keys in the templates: is the pattern wrong?", len(used))
	}
	// Keys the templates build with printf.
	for _, r := range archive.Registers() {
		used["register."+string(r)] = true
		used["form.new."+string(r)] = true
		used["form.intro."+string(r)] = true
	}
	for _, r := range []string{archive.RoleAdmin, archive.RoleSecretary, archive.RoleReader, archive.RoleAuditor} {
		used["role."+r] = true
	}
	for _, s := range []string{archive.StatusActive, archive.StatusAnnulled} {
		used["status."+s] = true
	}
	for _, f := range append(highlightOrder, "from", "to", "reference", "reference_date", "received_date",
		"date", "committee", "in_reply_to", "meeting", "attendees", "apologies", "agenda", "body", "subject") {
		used["field."+f] = true
	}
	for _, f := range []string{"in_reply_to", "meeting"} {
		used["form.hint."+f], used["form.placeholder."+f] = true, true
	}
	for _, s := range []string{"pending", "done", "failed", "unavailable"} {
		used["text."+s] = true
	}
	for _, s := range []string{"400", "401", "403", "404", "409", "412", "413", "415", "429", "503", "507", "other"} {
		used["error."+s+".title"], used["error."+s+".text"] = true, true
	}
	// The import page says why a row was refused with these, given the
	// importer's arguments in the same order.
	anyVerb := regexp.MustCompile(`%[dsvq]`)
	for code, english := range importer.RefusalReasons() {
		key := "import.why." + code
		used[key] = true
		if n, m := len(anyVerb.FindAllString(english, -1)), strings.Count(ar.msgs[key], "%s"); n != m {
			t.Errorf("%s takes %d arguments, the importer gives %d", key, m, n)
		}
	}
	var missing []string
	for k := range used {
		if _, ok := ar.msgs[k]; !ok {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("keys used but not in the catalogues: %v", missing)
	}
}

func TestViewsParse(t *testing.T) {
	a, err := loadAssets()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseViews(a); err != nil {
		t.Fatal(err)
	}
	css := string(a.files["app.css"].body)
	if strings.Contains(css, "{{") || !strings.Contains(css, a.url("amiri-bold.ttf")) {
		t.Errorf("the stylesheet does not name the fonts by their checksummed URLs")
	}
}

func TestSafeHighlight(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want template.HTML
	}{
		{"دعوة إلى <mark>اجتماع</mark> الأمانة", "دعوة إلى <mark>اجتماع</mark> الأمانة"},
		{"a &lt;b&gt; <mark>c</mark>", "a &lt;b&gt; <mark>c</mark>"},
		{"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
		{"<mark onclick=x>a</mark>", "&lt;mark onclick=x&gt;a&lt;/mark&gt;"},
		{"<mark>a", "&lt;mark&gt;a"},
		{`<mark>a</mark><img src=x>`, "&lt;mark&gt;a&lt;/mark&gt;&lt;img src=x&gt;"},
	} {
		if got := safeHighlight(tc.in); got != tc.want {
			t.Errorf("safeHighlight(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
