package index

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sijill/sijill/archive"
)

// maxQueryLen is the longest query text accepted, in characters.
const maxQueryLen = 500

// nodeKind is the kind of a node of a parsed query.
type nodeKind int

const (
	nodeWord   nodeKind = iota // a word, matched stemmed and exact
	nodePrefix                 // word*: words beginning with it
	nodePhrase                 // "quoted words" in this order
	nodeAnd                    // all children; negated children exclude
	nodeOr                     // any child
)

// node is a parsed query: the language people type, not Bleve's. Anything
// that is not a quote, parenthesis, leading minus, trailing star or the word
// OR is ordinary text, so "field:value", "^2" and "~" have no powers.
type node struct {
	kind     nodeKind
	text     string
	negated  bool
	children []*node
}

type lexKind int

const (
	lexWord lexKind = iota
	lexPhrase
	lexOr
	lexOpen
	lexClose
	lexEOF
)

type lexeme struct {
	kind    lexKind
	text    string
	negated bool // a leading '-'
	prefix  bool // a trailing '*'
}

// Parse errors, in Arabic, shown to the person who typed the query.
const (
	msgTooLong      = "نص البحث طويل جدًا: 500 حرف على الأكثر."
	msgQuote        = "علامة تنصيص غير مغلقة: ضع العبارة بين علامتي تنصيص، مثل \"المجلس الوطني\"."
	msgOpenParen    = "قوس غير مغلق: لكل قوس ( قوس ) يقابله."
	msgCloseParen   = "قوس إغلاق ) بلا قوس فتح ( يقابله."
	msgEmptyParen   = "قوسان فارغان: ضع بينهما كلمة للبحث عنها."
	msgLoneOr       = "OR تقع بين كلمتين أو عبارتين، مثل: لجنة OR مكتب."
	msgOnlyNegative = "لا يمكن البحث بكلمات مستبعدة فقط (-كلمة): أضف كلمة واحدة على الأقل للبحث عنها."
)

func invalid(msg string) error { return archive.Errorf(archive.EINVALID, "%s", msg) }

// closingQuote maps each opening quotation mark people type to its closing one.
var closingQuote = map[rune]rune{'"': '"', '“': '”', '«': '»', '„': '“'}

func lex(s string) ([]lexeme, error) {
	var out []lexeme
	rs := []rune(s)
	i := 0
	for i < len(rs) {
		r := rs[i]
		if unicode.IsSpace(r) {
			i++
			continue
		}
		negated := false
		if r == '-' && i+1 < len(rs) && !unicode.IsSpace(rs[i+1]) && rs[i+1] != ')' && rs[i+1] != '-' {
			negated = true
			i++
			r = rs[i]
		}
		switch {
		case r == '(':
			out = append(out, lexeme{kind: lexOpen, negated: negated})
			i++
		case r == ')':
			out = append(out, lexeme{kind: lexClose})
			i++
		case closingQuote[r] != 0:
			end := closingQuote[r]
			j := i + 1
			for j < len(rs) && rs[j] != end {
				j++
			}
			if j == len(rs) {
				return nil, invalid(msgQuote)
			}
			out = append(out, lexeme{kind: lexPhrase, text: string(rs[i+1 : j]), negated: negated})
			i = j + 1
		default:
			j := i
			for j < len(rs) && !unicode.IsSpace(rs[j]) && rs[j] != '(' && rs[j] != ')' && closingQuote[rs[j]] == 0 {
				j++
			}
			w := string(rs[i:j])
			i = j
			if w == "OR" && !negated {
				out = append(out, lexeme{kind: lexOr})
				continue
			}
			prefix := false
			if t := strings.TrimRight(w, "*"); t != w && t != "" {
				w, prefix = t, true
			}
			out = append(out, lexeme{kind: lexWord, text: w, negated: negated, prefix: prefix})
		}
	}
	return append(joinInitials(out), lexeme{kind: lexEOF}), nil
}

// joinInitials makes one word of words the tokenizer joins as initials
// (see Tokenizer.each): typed apart, «أ ع/189/2025» is two words, «أ» and
// «ع/189/2025», and neither would find a letter whose reference reads
// «أع/189/2025».
func joinInitials(lx []lexeme) []lexeme {
	tokens := func(s string) int { return len(firstAtEachPosition((Tokenizer{}).Tokenize([]byte(s)))) }
	out := lx[:0]
	for _, l := range lx {
		if n := len(out); n > 0 && l.kind == lexWord && !l.negated && out[n-1].kind == lexWord && !out[n-1].prefix {
			prev := &out[n-1]
			if joined := prev.text + " " + l.text; tokens(joined) < tokens(prev.text)+tokens(l.text) {
				prev.text, prev.prefix = joined, l.prefix
				continue
			}
		}
		out = append(out, l)
	}
	return out
}

type parser struct {
	lx  []lexeme
	pos int
}

func (p *parser) peek() lexeme { return p.lx[p.pos] }
func (p *parser) next() lexeme { l := p.lx[p.pos]; p.pos++; return l }

// parseQuery parses what a person typed. An empty query gives a nil node.
// Errors are *archive.Error with code EINVALID and an Arabic message.
func parseQuery(s string) (*node, error) {
	if utf8.RuneCountInString(s) > maxQueryLen {
		return nil, invalid(msgTooLong)
	}
	lx, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{lx: lx}
	if p.peek().kind == lexEOF {
		return nil, nil
	}
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	switch p.peek().kind {
	case lexEOF:
	case lexClose:
		return nil, invalid(msgCloseParen)
	default:
		return nil, invalid(msgLoneOr)
	}
	return n, nil
}

func (p *parser) parseOr() (*node, error) {
	if p.peek().kind == lexOr {
		return nil, invalid(msgLoneOr)
	}
	first, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	alts := []*node{first}
	for p.peek().kind == lexOr {
		p.next()
		switch p.peek().kind {
		case lexEOF, lexClose, lexOr:
			return nil, invalid(msgLoneOr)
		}
		n, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		alts = append(alts, n)
	}
	if len(alts) == 1 {
		return first, nil
	}
	return &node{kind: nodeOr, children: alts}, nil
}

func (p *parser) parseAnd() (*node, error) {
	var items []*node
	positive := false
	for {
		l := p.peek()
		if l.kind == lexEOF || l.kind == lexClose || l.kind == lexOr {
			break
		}
		n, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		if !n.negated {
			positive = true
		}
		items = append(items, n)
	}
	if len(items) == 0 {
		if p.peek().kind == lexClose {
			return nil, invalid(msgCloseParen)
		}
		return nil, invalid(msgLoneOr)
	}
	if !positive {
		return nil, invalid(msgOnlyNegative)
	}
	if len(items) == 1 {
		return items[0], nil
	}
	return &node{kind: nodeAnd, children: items}, nil
}

func (p *parser) parseUnary() (*node, error) {
	l := p.next()
	switch l.kind {
	case lexOpen:
		if p.peek().kind == lexClose {
			return nil, invalid(msgEmptyParen)
		}
		if p.peek().kind == lexEOF {
			return nil, invalid(msgOpenParen)
		}
		inner, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.next().kind != lexClose {
			return nil, invalid(msgOpenParen)
		}
		if l.negated {
			// Wrap so that negating a group never flips its children.
			return &node{kind: nodeAnd, children: []*node{inner}, negated: true}, nil
		}
		return inner, nil
	case lexPhrase:
		return &node{kind: nodePhrase, text: l.text, negated: l.negated}, nil
	case lexWord:
		k := nodeWord
		if l.prefix {
			k = nodePrefix
		}
		return &node{kind: k, text: l.text, negated: l.negated}, nil
	}
	return nil, invalid(msgCloseParen)
}

// String renders n in the query language, for tests and logs.
func (n *node) String() string {
	if n == nil {
		return ""
	}
	neg := ""
	if n.negated {
		neg = "-"
	}
	switch n.kind {
	case nodeWord:
		return neg + n.text
	case nodePrefix:
		return neg + n.text + "*"
	case nodePhrase:
		return neg + `"` + n.text + `"`
	}
	parts := make([]string, len(n.children))
	for i, c := range n.children {
		parts[i] = c.String()
	}
	sep := " "
	if n.kind == nodeOr {
		sep = " OR "
	}
	return neg + "(" + strings.Join(parts, sep) + ")"
}
