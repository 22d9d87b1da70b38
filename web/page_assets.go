package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sijill/sijill/fonts"
)

//go:embed static
var staticFS embed.FS

//go:embed locale
var localeFS embed.FS

// asset is one static file, served under a URL that contains its checksum so
// browsers may keep it for a year and still never use a stale copy.
type asset struct {
	body  []byte
	ctype string
	sum   string
}

// assets are the embedded static files by name.
type assets struct{ files map[string]asset }

func loadAssets() (*assets, error) {
	a := &assets{files: map[string]asset{}}
	add := func(name string, body []byte) {
		sum := sha256.Sum256(body)
		ct := mime.TypeByExtension(path.Ext(name))
		switch path.Ext(name) {
		case ".css":
			ct = "text/css; charset=utf-8"
		case ".js":
			ct = "text/javascript; charset=utf-8"
		case ".ttf":
			ct = "font/ttf"
		case ".svg":
			ct = "image/svg+xml"
		}
		a.files[name] = asset{body: body, ctype: ct, sum: hex.EncodeToString(sum[:])[:16]}
	}
	// Fonts first: the stylesheet names them by their checksummed URLs.
	add("amiri-regular.ttf", fonts.AmiriRegular)
	add("amiri-bold.ttf", fonts.AmiriBold)
	var css []string
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		if path.Ext(name) == ".css" {
			css = append(css, name)
		}
		add(name, b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: static files: %w", err)
	}
	for _, name := range css {
		body := string(a.files[name].body)
		for _, f := range []string{"amiri-regular.ttf", "amiri-bold.ttf"} {
			body = strings.ReplaceAll(body, "{{"+f+"}}", a.url(f))
		}
		add(name, []byte(body))
	}
	return a, nil
}

// url is the checksummed address of a static file; an unknown name panics
// while the templates are checked at start, never later.
func (a *assets) url(name string) string {
	f, ok := a.files[name]
	if !ok {
		panic(fmt.Sprintf("web: no static file %q", name))
	}
	return "/static/" + f.sum + "/" + name
}

// serve answers /static/{sum}/{name}. A stale checksum still gets the current
// file, but only the current one is cached for long.
func (a *assets) serve(c *fiber.Ctx) error {
	f, ok := a.files[c.Params("name")]
	if !ok {
		return fiber.ErrNotFound
	}
	c.Set(fiber.HeaderContentType, f.ctype)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	if c.Params("sum") == f.sum {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "no-cache")
	}
	return c.Send(f.body)
}

// catalogue is one language's messages, by key.
type catalogue struct {
	lang string
	msgs map[string]string
}

// languages are the catalogues shipped in locale/.
var languages = []string{"ar", "en"}

func loadCatalogues() (map[string]*catalogue, error) {
	out := map[string]*catalogue{}
	for _, lang := range languages {
		b, err := localeFS.ReadFile("locale/" + lang + ".json")
		if err != nil {
			return nil, fmt.Errorf("web: catalogue %s: %w", lang, err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("web: catalogue %s: %w", lang, err)
		}
		out[lang] = &catalogue{lang: lang, msgs: m}
	}
	return out, nil
}

// text is the message for key with args formatted in; a missing key shows the
// key itself (and TestCatalogues fails).
func (c *catalogue) text(key string, args ...any) string {
	m, ok := c.msgs[key]
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(m, args...)
	}
	return m
}
