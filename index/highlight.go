package index

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	// wholeField is the longest text (in bytes) shown whole in a highlight.
	wholeField = 400
	// fragBefore and fragAfter are how much context (in bytes, about half as
	// many Arabic letters) a fragment keeps around its first match.
	fragBefore = 120
	fragAfter  = 240
	// maxFragments is the most fragments shown per field value.
	maxFragments = 3
)

// fragments cuts text into at most maxFragments pieces around the spans
// (sorted, disjoint byte ranges of matched words), HTML-escaped, with the
// matched words in <mark>. Cuts fall on spaces where possible and are shown
// with "…".
func fragments(text string, spans []span) []string {
	if len(text) <= wholeField {
		return []string{markup(text, 0, len(text), spans)}
	}
	var out []string
	for i := 0; i < len(spans) && len(out) < maxFragments; {
		start := cutBack(text, spans[i].start-fragBefore)
		end := fragmentEnd(text, spans[i].end)
		j := i
		for j < len(spans) && spans[j].end <= end {
			j++
		}
		if j == i { // a match longer than the window
			end = spans[i].end
			j = i + 1
		}
		var b strings.Builder
		if start > 0 {
			b.WriteString("…")
		}
		b.WriteString(markup(text, start, end, spans[i:j]))
		if end < len(text) {
			b.WriteString("…")
		}
		out = append(out, strings.TrimSpace(b.String()))
		i = j
	}
	return out
}

// fragmentEnd is where the fragment whose first matched word ends at end
// stops; matchSpans stops reading there once it has found the last fragment.
func fragmentEnd(text string, end int) int { return cutForward(text, end+fragAfter) }

// markup escapes text[start:end] and wraps each span in <mark>.
func markup(text string, start, end int, spans []span) string {
	var b strings.Builder
	at := start
	for _, s := range spans {
		if s.start < at || s.end > end {
			continue
		}
		b.WriteString(html.EscapeString(text[at:s.start]))
		b.WriteString("<mark>")
		b.WriteString(html.EscapeString(text[s.start:s.end]))
		b.WriteString("</mark>")
		at = s.end
	}
	b.WriteString(html.EscapeString(text[at:end]))
	return b.String()
}

// cutBack moves i back to the start of a word at or before it.
func cutBack(text string, i int) int {
	if i <= 0 {
		return 0
	}
	for i > 0 && !utf8.RuneStart(text[i]) {
		i--
	}
	for k := i; k > 0 && i-k < 40; {
		r, size := utf8.DecodeLastRuneInString(text[:k])
		if unicode.IsSpace(r) {
			return k
		}
		k -= size
	}
	return i
}

// cutForward moves i forward to the end of a word at or after it.
func cutForward(text string, i int) int {
	if i >= len(text) {
		return len(text)
	}
	for i < len(text) && !utf8.RuneStart(text[i]) {
		i++
	}
	for k := i; k < len(text) && k-i < 40; {
		r, size := utf8.DecodeRuneInString(text[k:])
		if unicode.IsSpace(r) {
			return k
		}
		k += size
	}
	return i
}
