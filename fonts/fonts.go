// Package fonts embeds the typefaces Sijill prints with, so a printed register
// looks the same on every server and needs no font installed on the host.
//
// Amiri (Khaled Hosny, SIL Open Font License 1.1, see OFL.txt) is used because it
// covers Arabic Presentation Forms-B (the joined letter forms and lam-alef
// ligatures render/ shapes to) as well as Latin letters, ASCII digits and
// punctuation, which Arabic-only fonts such as Noto Naskh Arabic lack.
package fonts

import (
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// AmiriRegular is Amiri Regular (TrueType), from Debian's fonts-hosny-amiri.
//
//go:embed Amiri-Regular.ttf
var AmiriRegular []byte

// AmiriBold is Amiri Bold (TrueType), from Debian's fonts-hosny-amiri.
//
//go:embed Amiri-Bold.ttf
var AmiriBold []byte

// License is the SIL Open Font License text the fonts are distributed under.
// Whoever ships the fonts (inside the binary) must ship this text with them.
//
//go:embed OFL.txt
var License string

// Coverage is the set of code points a font maps to a glyph. Printing checks
// it so that no character silently comes out as an empty box.
type Coverage struct {
	ranges []runeRange // sorted, non-overlapping after build
}

type runeRange struct{ lo, hi rune }

// NewCoverage reads the character map (cmap formats 4 and 12, the Unicode
// ones) of a TrueType/OpenType font.
func NewCoverage(ttf []byte) (*Coverage, error) {
	cmap, err := table(ttf, "cmap")
	if err != nil {
		return nil, err
	}
	if len(cmap) < 4 {
		return nil, errors.New("fonts: cmap too short")
	}
	n := int(binary.BigEndian.Uint16(cmap[2:]))
	best, bestFormat := -1, 0
	for i := range n {
		rec := cmap[4+8*i:]
		if len(rec) < 8 {
			return nil, errors.New("fonts: cmap record truncated")
		}
		platform, encoding := binary.BigEndian.Uint16(rec), binary.BigEndian.Uint16(rec[2:])
		off := int(binary.BigEndian.Uint32(rec[4:]))
		if off+2 > len(cmap) {
			return nil, errors.New("fonts: cmap subtable offset out of range")
		}
		unicode := platform == 0 || (platform == 3 && (encoding == 1 || encoding == 10))
		format := int(binary.BigEndian.Uint16(cmap[off:]))
		if unicode && (format == 4 || format == 12) && format > bestFormat {
			best, bestFormat = off, format
		}
	}
	if best < 0 {
		return nil, errors.New("fonts: no Unicode cmap subtable")
	}
	c := &Coverage{}
	sub := cmap[best:]
	if bestFormat == 12 {
		err = c.format12(sub)
	} else {
		err = c.format4(sub)
	}
	if err != nil {
		return nil, err
	}
	sort.Slice(c.ranges, func(i, j int) bool { return c.ranges[i].lo < c.ranges[j].lo })
	return c, nil
}

func (c *Coverage) format12(b []byte) error {
	if len(b) < 16 {
		return errors.New("fonts: cmap format 12 truncated")
	}
	n := int(binary.BigEndian.Uint32(b[12:]))
	if 16+12*n > len(b) {
		return errors.New("fonts: cmap format 12 groups truncated")
	}
	for i := range n {
		g := b[16+12*i:]
		lo, hi, gid := rune(binary.BigEndian.Uint32(g)), rune(binary.BigEndian.Uint32(g[4:])), binary.BigEndian.Uint32(g[8:])
		if gid == 0 { // a group starting at .notdef: the first code point is not covered
			lo++
		}
		if lo <= hi {
			c.ranges = append(c.ranges, runeRange{lo, hi})
		}
	}
	return nil
}

func (c *Coverage) format4(b []byte) error {
	if len(b) < 14 {
		return errors.New("fonts: cmap format 4 truncated")
	}
	segX2 := int(binary.BigEndian.Uint16(b[6:]))
	ends, starts, deltas, offs := 14, 16+segX2, 16+2*segX2, 16+3*segX2
	if offs+segX2 > len(b) {
		return errors.New("fonts: cmap format 4 segments truncated")
	}
	u16 := func(at int) int { return int(binary.BigEndian.Uint16(b[at:])) }
	for s := 0; s < segX2; s += 2 {
		end, start, delta, ro := u16(ends+s), u16(starts+s), u16(deltas+s), u16(offs+s)
		for r := start; r <= end && r != 0xFFFF; r++ {
			var gid int
			if ro == 0 {
				gid = (r + delta) & 0xFFFF
			} else {
				at := offs + s + ro + 2*(r-start)
				if at+2 > len(b) {
					return errors.New("fonts: cmap format 4 glyph index out of range")
				}
				if gid = u16(at); gid != 0 {
					gid = (gid + delta) & 0xFFFF
				}
			}
			if gid != 0 {
				c.add(rune(r))
			}
		}
	}
	return nil
}

func (c *Coverage) add(r rune) {
	if n := len(c.ranges); n > 0 && c.ranges[n-1].hi+1 == r {
		c.ranges[n-1].hi = r
		return
	}
	c.ranges = append(c.ranges, runeRange{r, r})
}

// Has reports whether the font has a glyph for r.
func (c *Coverage) Has(r rune) bool {
	i := sort.Search(len(c.ranges), func(i int) bool { return c.ranges[i].hi >= r })
	return i < len(c.ranges) && c.ranges[i].lo <= r
}

// table returns the bytes of the named sfnt table.
func table(ttf []byte, tag string) ([]byte, error) {
	if len(ttf) < 12 {
		return nil, errors.New("fonts: not a font file")
	}
	n := int(binary.BigEndian.Uint16(ttf[4:]))
	for i := range n {
		rec := ttf[12+16*i:]
		if len(rec) < 16 {
			return nil, errors.New("fonts: table directory truncated")
		}
		if string(rec[:4]) != tag {
			continue
		}
		off, length := int(binary.BigEndian.Uint32(rec[8:])), int(binary.BigEndian.Uint32(rec[12:]))
		if off < 0 || length < 0 || off+length > len(ttf) {
			return nil, fmt.Errorf("fonts: table %s out of range", tag)
		}
		return ttf[off : off+length], nil
	}
	return nil, fmt.Errorf("fonts: no %s table", tag)
}
