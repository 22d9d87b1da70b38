package export

import (
	"archive/zip"
	"bufio"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"regexp"
	"strings"
)

// InvalidError lists why a bag is not valid, each problem naming its file.
type InvalidError struct {
	Problems []string
}

func (e *InvalidError) Error() string {
	const shown = 20
	p := e.Problems
	more := ""
	if len(p) > shown {
		more = fmt.Sprintf("\n… and %d more", len(p)-shown)
		p = p[:shown]
	}
	return fmt.Sprintf("the bag is not valid (%d problems):\n%s%s", len(e.Problems), strings.Join(p, "\n"), more)
}

// algorithms a validator accepts in manifest names (RFC 8493 §2.4 names
// sha256 and sha512 as the ones to support).
var algorithms = map[string]func() hash.Hash{"sha256": sha256.New, "sha512": sha512.New}

var manifestName = regexp.MustCompile(`^(tag)?manifest-([a-z0-9]+)\.txt$`)

// Validate checks the bag at the root of fsys as RFC 8493 §3 defines a valid
// bag: a declaration with a version and UTF-8, at least one payload manifest,
// every payload file listed in every payload manifest and nothing listed that
// is missing, every checksum (payload and tag manifests alike) recomputed and
// matching, and Payload-Oxum, when bag-info.txt gives it, matching the payload.
// Every problem is reported, each naming its file.
func Validate(fsys fs.FS) error {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }

	decl, err := fs.ReadFile(fsys, "bagit.txt")
	if err != nil {
		return &InvalidError{[]string{"bagit.txt: missing, this is not a bag"}}
	}
	lines := strings.Split(strings.TrimRight(string(decl), "\r\n"), "\n")
	if len(lines) != 2 || !regexp.MustCompile(`^BagIt-Version: [0-9]+\.[0-9]+\r?$`).MatchString(lines[0]) ||
		strings.TrimSpace(lines[1]) != "Tag-File-Character-Encoding: UTF-8" {
		bad("bagit.txt: not a BagIt declaration (a version line, then Tag-File-Character-Encoding: UTF-8)")
	}

	top, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return err
	}
	payload := map[string]bool{}
	var octets int64
	if err := fs.WalkDir(fsys, "data", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			payload[p] = true
			if info, err := d.Info(); err == nil {
				octets += info.Size()
			}
		} else if !d.IsDir() {
			bad("%s: not a regular file", p)
		}
		return nil
	}); err != nil {
		bad("data/: %v", err)
	}

	payloadManifests := 0
	for _, e := range top {
		m := manifestName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		newHash := algorithms[m[2]]
		if newHash == nil {
			bad("%s: unsupported algorithm %q", e.Name(), m[2])
			continue
		}
		tag := m[1] != ""
		if !tag {
			payloadManifests++
		}
		listed := checkManifest(fsys, e.Name(), newHash, tag, bad)
		if !tag {
			for p := range payload {
				if !listed[p] {
					bad("%s: in the payload but not listed in %s", p, e.Name())
				}
			}
		}
	}
	if payloadManifests == 0 {
		bad("manifest-sha256.txt: no payload manifest")
	}
	if info, err := Info(fsys); err == nil {
		if oxum, ok := info["Payload-Oxum"]; ok {
			want := fmt.Sprintf("%d.%d", octets, len(payload))
			if oxum != want {
				bad("bag-info.txt: Payload-Oxum says %s, the payload is %s (octets.files)", oxum, want)
			}
		}
	}
	if len(problems) > 0 {
		return &InvalidError{problems}
	}
	return nil
}

// checkManifest recomputes every checksum of one manifest and returns the
// paths it lists.
func checkManifest(fsys fs.FS, name string, newHash func() hash.Hash, tag bool, bad func(string, ...any)) map[string]bool {
	listed := map[string]bool{}
	f, err := fsys.Open(name)
	if err != nil {
		bad("%s: %v", name, err)
		return listed
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if line == "" {
			continue
		}
		i := strings.IndexAny(line, " \t")
		if i < 0 {
			bad("%s line %d: not «checksum path»", name, n)
			continue
		}
		want, p := strings.ToLower(line[:i]), decodePath(strings.TrimLeft(line[i:], " \t"))
		switch {
		case p != path.Clean(p) || path.IsAbs(p) || p == ".." || strings.HasPrefix(p, "../"):
			bad("%s line %d: %q leaves the bag", name, n, p)
			continue
		case !tag && !strings.HasPrefix(p, "data/"):
			bad("%s line %d: %s is not in data/", name, n, p)
			continue
		case tag && strings.HasPrefix(p, "data/"):
			bad("%s line %d: a tag manifest lists the payload file %s", name, n, p)
			continue
		}
		listed[p] = true
		got, err := fileSum(fsys, p, newHash)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			bad("%s: listed in %s but missing", p, name)
		case err != nil:
			bad("%s: %v", p, err)
		case got != want:
			bad("%s: checksum %s does not match %s in %s: the file was changed", p, got, want, name)
		}
	}
	if err := sc.Err(); err != nil {
		bad("%s: %v", name, err)
	}
	return listed
}

func fileSum(fsys fs.FS, p string, newHash func() hash.Hash) (string, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := newHash()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

var pathDecoder = strings.NewReplacer("%0A", "\n", "%0a", "\n", "%0D", "\r", "%0d", "\r", "%25", "%")

func decodePath(p string) string { return pathDecoder.Replace(p) }

// Info returns the elements of a bag's bag-info.txt (RFC 8493 §2.2.2: a
// line that starts with a space or tab continues the element before it).
func Info(fsys fs.FS) (map[string]string, error) {
	b, err := fs.ReadFile(fsys, "bag-info.txt")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	label := ""
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t") {
			if label != "" {
				out[label] += " " + strings.TrimSpace(line)
			}
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			label = strings.TrimSpace(k)
			out[label] = strings.TrimSpace(v)
		}
	}
	return out, nil
}

// Open opens a bag written by WriteTo or any other tool: a directory, or a zip
// file holding one base directory (or the bag's files at its root).
func Open(name string) (fs.FS, io.Closer, error) {
	st, err := os.Stat(name)
	if err != nil {
		return nil, nil, err
	}
	if st.IsDir() {
		return os.DirFS(name), io.NopCloser(nil), nil
	}
	zr, err := zip.OpenReader(name)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: neither a directory nor a zip file: %w", name, err)
	}
	if _, err := fs.Stat(zr, "bagit.txt"); err == nil {
		return zr, zr, nil
	}
	top, err := fs.ReadDir(zr, ".")
	if err != nil || len(top) != 1 || !top[0].IsDir() {
		zr.Close()
		return nil, nil, fmt.Errorf("%s: a zipped bag holds one base directory", name)
	}
	sub, err := fs.Sub(zr, top[0].Name())
	if err != nil {
		zr.Close()
		return nil, nil, err
	}
	return sub, zr, nil
}
