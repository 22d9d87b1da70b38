package index

import (
	"context"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/sijill/sijill/archive"
)

// Query is a search as a person asks it: text in the query language, filters,
// paging and order.
type Query struct {
	// Text: words are AND-ed; "quoted phrase"; OR; -word; word*; parentheses.
	// Empty lists the records the filters select.
	Text      string
	Register  string
	Committee string
	Tag       string
	Status    string
	Year      int
	// From and To bound the record's date (YYYY-MM-DD), both inclusive.
	From, To string
	// Page starts at 1; Size defaults to 20 and is capped at 100.
	Page, Size int
	// Sort is "" or "relevance", "date", "-date", "number", "-number", "reply_due".
	Sort string
	// SeeConfidential lets confidential records be found, counted and faceted.
	SeeConfidential bool
	// LinksTo selects the records that point at this record ID (as the
	// letter they answer, a reference, or the meeting of a decision).
	LinksTo string
	// AwaitingReply selects the letters marked as needing an answer (a
	// reply due date), answered or not: whether an answer was registered is
	// a LinksTo search.
	AwaitingReply bool
}

// Result is one page of hits, with the total and facet counts of all matches.
type Result struct {
	Total  uint64                    `json:"total"`
	Hits   []Hit                     `json:"hits"`
	Facets map[string]map[string]int `json:"facets"`
}

// Hit is one matching record.
type Hit struct {
	ID       string `json:"id"`
	Register string `json:"register"`
	Year     int    `json:"year"`
	Number   int    `json:"number"`
	Date     string `json:"date"`
	Subject  string `json:"subject"`
	// Status is active or annulled: an annulled entry is still found, and
	// must say so where it is listed.
	Status string `json:"status"`
	// From and To are the parties, for the line under a hit.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// ReplyDue is the day an incoming letter needs its answer by, if it does.
	ReplyDue string  `json:"reply_due,omitempty"`
	Score    float64 `json:"score"`
	// Highlights maps a field (subject, body, from, to, committee, tags,
	// reference, attendees, apologies, agenda, attachments) to fragments of its original text, HTML-escaped, with
	// <mark>…</mark> around the matched words.
	Highlights map[string][]string `json:"highlights,omitempty"`
}

const (
	defaultSize = 20
	maxSize     = 100
	maxDepth    = 10000 // deepest result reachable by paging
	// exactBoost ranks a word found as typed above one found by its stem.
	exactBoost = 2.0
	// minPrefix is the shortest prefix (in letters) searched as a prefix;
	// shorter ones would expand to most of the dictionary.
	minPrefix = 2
)

// Facet sizes: how many values of each facet a result lists, the most
// frequent first.
var facetSizes = map[string]int{"register": 10, "year": 50, "committee": 30}

// addFacets splits counts by kwFacets term into the register, year and
// committee facets of out, each cut to its size in facetSizes.
func addFacets(out map[string]map[string]int, counts map[string]int) {
	for term, n := range counts {
		parts := strings.SplitN(term, facetSep, 4)
		if len(parts) != 4 {
			continue
		}
		for i, name := range []string{"register", "year", "committee"} {
			if parts[i] != "" {
				out[name][parts[i]] += n
			}
		}
	}
	for name, counts := range out {
		if len(counts) <= facetSizes[name] {
			continue
		}
		type kv struct {
			k string
			n int
		}
		all := make([]kv, 0, len(counts))
		for k, n := range counts {
			all = append(all, kv{k, n})
		}
		slices.SortFunc(all, func(a, b kv) int {
			if a.n != b.n {
				return b.n - a.n
			}
			return strings.Compare(a.k, b.k)
		})
		for _, e := range all[facetSizes[name]:] {
			delete(counts, e.k)
		}
	}
}

var dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// Search runs q. A malformed query or filter is an *archive.Error with code
// EINVALID and a message for the person who typed it. Unless
// q.SeeConfidential, only the part of the index holding normal records is
// searched: confidential records are absent from hits, total, facets,
// highlights, prefix expansion and scores alike.
func (ix *Index) Search(ctx context.Context, q Query) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	req, m, err := ix.buildRequest(q)
	if err != nil {
		return nil, err
	}
	res := &Result{Hits: []Hit{}, Facets: map[string]map[string]int{
		"register": {}, "year": {}, "committee": {},
	}}
	if req == nil {
		return res, nil
	}
	counts := &facetCollector{}
	sctx := context.WithValue(ctx, search.MakeDocumentMatchHandlerKey, ix.facets.handlerMaker(counts, q.SeeConfidential))
	sr, err := ix.search(sctx, req, q.SeeConfidential)
	if err != nil {
		return nil, fmt.Errorf("index: search %q: %w", q.Text, err)
	}
	// Bleve's total counts the matches the handler left out too.
	total, byTerm := counts.sum()
	res.Total = total
	addFacets(res.Facets, byTerm)
	res.Hits = ix.makeHits(sr.Hits, m)
	return res, nil
}

// makeHits turns Bleve's hits into ours. Highlighting re-reads the text of
// every hit on the page, a good part of a search's time, so the hits are
// shared among one goroutine per CPU, each with its own cache of stems.
func (ix *Index) makeHits(dms search.DocumentMatchCollection, m *marks) []Hit {
	hits := make([]Hit, len(dms))
	workers := min(runtime.GOMAXPROCS(0), len(dms))
	if m.empty() || workers <= 1 {
		stems := newSpanCache()
		for i, dm := range dms {
			hits[i] = ix.makeHit(dm, m, stems)
		}
		return hits
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			stems := newSpanCache()
			for i := w; i < len(dms); i += workers {
				hits[i] = ix.makeHit(dms[i], m, stems)
			}
		})
	}
	wg.Wait()
	return hits
}

// search runs req on the readers' shards, or on every part when all;
// highlights are made after, without holding up a Rebuild's swap.
func (ix *Index) search(ctx context.Context, req *bleve.SearchRequest, all bool) (_ *bleve.SearchResult, err error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	defer func() {
		if r := recover(); r != nil {
			// A damaged index must not take the process down, nor answer
			// 500: it is reopened from disk and caught up (see Follow).
			ix.damaged.Store(true)
			ix.log.Error("index: the search engine failed; the index will be reopened", "panic", r)
			err = archive.Errorf(archive.EUNAVAILABLE, "the search index is being repaired; try again shortly")
		}
	}()
	if ix.parts[0] == nil {
		return nil, errClosed
	}
	if all {
		return ix.all.SearchInContext(ctx, req)
	}
	return ix.normal.SearchInContext(ctx, req)
}

// buildRequest turns q into a Bleve request and the terms to highlight. A nil
// request without error is a query that can match nothing (only stop words).
func (ix *Index) buildRequest(q Query) (*bleve.SearchRequest, *marks, error) {
	page, size := q.Page, q.Size
	if page < 1 {
		page = 1
	}
	if size < 1 {
		size = defaultSize
	}
	if size > maxSize {
		size = maxSize
	}
	if page > maxDepth/size {
		return nil, nil, invalid(fmt.Sprintf("الصفحة %d أبعد مما يمكن عرضه: ضيّق البحث بكلمات أو مرشحات إضافية.", page))
	}
	tree, err := parseQuery(q.Text)
	if err != nil {
		return nil, nil, err
	}
	var must []query.Query
	m := newMarks()
	if tree != nil {
		tq := ix.compile(tree, m)
		if tq == nil {
			return nil, nil, nil
		}
		must = append(must, tq)
	}
	filters, err := filterQueries(q)
	if err != nil {
		return nil, nil, err
	}
	must = append(must, filters...)
	var top query.Query
	switch len(must) {
	case 0:
		top = query.NewMatchAllQuery()
	case 1:
		top = must[0]
	default:
		top = query.NewConjunctionQuery(must)
	}
	// Unless q.SeeConfidential, only the normal part is searched (see
	// Search); its match handler leaves out any record not known to be
	// normal all the same.

	req := bleve.NewSearchRequestOptions(top, size, (page-1)*size, false)
	req.Fields = []string{kwRegister, kwYear, numNumber, kwDate, kwStatus, kwReplyDue, fieldSubject, fieldFrom, fieldTo}
	if !m.empty() {
		req.Fields = append(req.Fields, textFields[1:]...) // for highlights
	}
	// Facets are counted by ix.facets as the matches go by (see Search).
	switch q.Sort {
	case "", "relevance":
		if tree == nil {
			req.SortBy([]string{"-" + kwDate, "-" + kwYear, "-" + numNumber})
		}
	case "date":
		req.SortBy([]string{kwDate, kwYear, numNumber})
	case "-date":
		req.SortBy([]string{"-" + kwDate, "-" + kwYear, "-" + numNumber})
	case "number":
		req.SortBy([]string{kwRegister, kwYear, numNumber})
	case "-number":
		req.SortBy([]string{kwRegister, "-" + kwYear, "-" + numNumber})
	case "reply_due":
		req.SortBy([]string{kwReplyDue, kwYear, numNumber})
	default:
		return nil, nil, invalid("ترتيب غير معروف: relevance أو date أو -date أو number أو -number أو reply_due.")
	}
	return req, m, nil
}

// andNot matches pos but none of not. Unlike query.NewBooleanQuery, it does
// not wrap a single query in a conjunction or disjunction of one, a layer
// Bleve would step through for every match.
func andNot(pos query.Query, not []query.Query) query.Query {
	q := &query.BooleanQuery{Must: pos}
	if len(not) == 1 {
		q.MustNot = not[0]
	} else {
		q.MustNot = query.NewDisjunctionQuery(not)
	}
	return q
}

func termQuery(field, term string) *query.TermQuery {
	tq := query.NewTermQuery(term)
	tq.SetField(field)
	return tq
}

func filterQueries(q Query) ([]query.Query, error) {
	var out []query.Query
	if q.Register != "" {
		if !archive.Register(q.Register).Valid() {
			return nil, invalid(fmt.Sprintf("سجل غير معروف: %q.", q.Register))
		}
		out = append(out, termQuery(kwRegister, q.Register))
	}
	if q.Year != 0 {
		out = append(out, termQuery(kwYear, strconv.Itoa(q.Year)))
	}
	if q.Committee != "" {
		out = append(out, termQuery(kwCommittee, strings.TrimSpace(q.Committee)))
	}
	if q.Tag != "" {
		out = append(out, termQuery(kwTag, strings.TrimSpace(q.Tag)))
	}
	if q.Status != "" {
		out = append(out, termQuery(kwStatus, q.Status))
	}
	if q.LinksTo != "" {
		out = append(out, termQuery(kwLink, q.LinksTo))
	}
	if q.AwaitingReply {
		// Every reply due date: YYYY-MM-DD sorts between these two.
		yes := true
		rq := query.NewTermRangeInclusiveQuery("0", ":", &yes, &yes)
		rq.SetField(kwReplyDue)
		out = append(out, rq)
	}
	if q.From != "" || q.To != "" {
		for _, d := range []string{q.From, q.To} {
			if d != "" && !dateRE.MatchString(d) {
				return nil, invalid(fmt.Sprintf("تاريخ غير صالح %q: اكتبه على الشكل YYYY-MM-DD.", d))
			}
		}
		yes := true
		rq := query.NewTermRangeInclusiveQuery(q.From, q.To, &yes, &yes)
		rq.SetField(kwDate)
		out = append(out, rq)
	}
	return out, nil
}

// compile turns a parsed query into a Bleve query on the composite fields.
// It returns nil for a part that can match nothing, such as a stop word, which
// is then left out of its group.
//
// The terms of positive parts are added to m (nil: do not collect), so that
// highlights mark what was searched for and not what was excluded.
func (ix *Index) compile(n *node, m *marks) query.Query {
	switch n.kind {
	case nodeWord:
		return ix.wordQuery(n.text, m)
	case nodePrefix:
		return ix.prefixQuery(n.text, m)
	case nodePhrase:
		return ix.phraseQuery(n.text, m)
	case nodeOr:
		var alts []query.Query
		for _, c := range n.children {
			if cq := ix.compile(c, m); cq != nil {
				alts = append(alts, cq)
			}
		}
		switch len(alts) {
		case 0:
			return nil
		case 1:
			return alts[0]
		}
		return query.NewDisjunctionQuery(alts)
	}
	var must, not []query.Query
	for _, c := range n.children {
		cm := m
		if c.negated {
			cm = nil
		}
		cq := ix.compile(c, cm)
		switch {
		case cq == nil:
		case c.negated:
			not = append(not, cq)
		default:
			must = append(must, cq)
		}
	}
	if len(must) == 0 {
		return nil
	}
	var pos query.Query = query.NewConjunctionQuery(must)
	if len(must) == 1 {
		pos = must[0]
	}
	if len(not) == 0 {
		return pos
	}
	return andNot(pos, not)
}

// byPosition groups the terms of a token stream by position. The parts of a
// compound name typed as one word are left out: عبدالرحمن is searched by
// its joined stem, which both spellings index, and not by عبد.
func byPosition(ts analysis.TokenStream) map[int][]string {
	m := map[int][]string{}
	for _, t := range ts {
		if t.Type != compoundPart {
			m[t.Position] = append(m[t.Position], string(t.Term))
		}
	}
	return m
}

// wordQuery matches a typed word by its stems or as written (ranked higher).
// A "word" that analyses into several (2017-2020, a/b) needs all of them.
func (ix *Index) wordQuery(w string, m *marks) query.Query {
	exact := firstAtEachPosition(ix.an.exact.Analyze([]byte(w)))
	stems := byPosition(ix.an.stemmed.Analyze([]byte(w)))
	var parts []query.Query
	for _, e := range exact {
		ss := stems[e.Position]
		if len(ss) == 0 {
			continue // a stop word
		}
		// The stems alone decide what matches: a word as written always has
		// its stem at the same place. Adding the exact term to rank exact
		// forms higher doubled the cost of every word.
		m.addExact(string(e.Term))
		if len(ss) == 1 {
			m.addStem(ss[0])
			parts = append(parts, termQuery(fieldAll, ss[0]))
			continue
		}
		alts := []query.Query{}
		for _, s := range ss {
			alts = append(alts, termQuery(fieldAll, s))
			m.addStem(s)
		}
		parts = append(parts, query.NewDisjunctionQuery(alts))
	}
	return allOf(parts)
}

// firstAtEachPosition keeps the first token of each position: initials
// typed apart are one word, and the letters the tokenizer adds at their
// place (see appendInitials) are alternatives, not more words to match.
func firstAtEachPosition(ts analysis.TokenStream) analysis.TokenStream {
	out := ts[:0]
	for _, t := range ts {
		if len(out) == 0 || out[len(out)-1].Position != t.Position {
			out = append(out, t)
		}
	}
	return out
}

// allOf matches what every part matches: nil for no part, the part itself for
// one (a conjunction of one only costs work), a conjunction otherwise.
func allOf(parts []query.Query) query.Query {
	switch len(parts) {
	case 0:
		return nil
	case 1:
		return parts[0]
	}
	return query.NewConjunctionQuery(parts)
}

// prefixQuery matches words beginning with the normalised prefix, as written
// or by their stem (so مجل* finds المجلس and للمجلس). Bleve does not analyse
// prefix text, so it is normalised here by the exact chain.
func (ix *Index) prefixQuery(w string, m *marks) query.Query {
	exact := firstAtEachPosition(ix.an.exact.Analyze([]byte(w)))
	if len(exact) == 0 {
		return nil
	}
	var parts []query.Query
	for _, e := range exact[:len(exact)-1] {
		if q := ix.wordQuery(string(e.Term), m); q != nil {
			parts = append(parts, q)
		}
	}
	last := exact[len(exact)-1]
	p := string(last.Term)
	if len([]rune(p)) < minPrefix {
		if q := ix.wordQuery(p, m); q != nil {
			parts = append(parts, q)
		}
	} else {
		bare := strings.TrimPrefix(p, "ال")
		if bare != p && len([]rune(bare)) < minPrefix {
			bare = p
		}
		m.addPrefixes(p, bare)
		var alts []query.Query
		if len([]rune(p)) <= maxPrefixTerm {
			// One term each (see prefixesOf).
			alts = append(alts, termQuery(fieldPrefixes, p))
			if bare != p {
				alts = append(alts, termQuery(fieldPrefixes, bare))
			}
		} else {
			ep := query.NewPrefixQuery(p)
			ep.SetField(fieldExact)
			ep.SetBoost(exactBoost)
			sp := query.NewPrefixQuery(bare)
			sp.SetField(fieldAll)
			alts = append(alts, ep, sp)
		}
		if len(alts) == 1 {
			parts = append(parts, alts[0])
		} else {
			parts = append(parts, query.NewDisjunctionQuery(alts))
		}
	}
	return allOf(parts)
}

// phraseQuery matches the words in this order, by their stems, so
// "اللجنة المركزية" also finds "للجنة المركزية" and "مجلس وطني" finds
// "المجلس الوطني". Stop words inside the phrase hold their place.
func (ix *Index) phraseQuery(text string, m *marks) query.Query {
	exact := ix.an.exact.Analyze([]byte(text))
	switch len(exact) {
	case 0:
		return nil
	case 1:
		return ix.wordQuery(text, m)
	}
	// The stemmed phrase matches wherever the exact one would (each word's
	// stem stands at the word's place), so it alone decides.
	stemmed := ix.an.stemmed.Analyze([]byte(text))
	if len(stemmed) == 0 {
		return nil
	}
	first, last := stemmed[0].Position, stemmed[len(stemmed)-1].Position
	slots := make([][]string, last-first+1)
	for _, t := range stemmed {
		if t.Type == compoundPart {
			continue // عبدالرحمن is its joined stem (see byPosition)
		}
		slots[t.Position-first] = append(slots[t.Position-first], string(t.Term))
		m.addStem(string(t.Term))
	}
	if len(slots) > 1 {
		return pairsPhrase(slots)
	}
	// One real word among stop words: that word.
	var ts []query.Query
	for _, s := range slots[0] {
		ts = append(ts, termQuery(fieldAll, s))
	}
	if len(ts) == 1 {
		return ts[0]
	}
	return query.NewDisjunctionQuery(ts)
}

func (ix *Index) makeHit(dm *search.DocumentMatch, m *marks, stems *spanCache) Hit {
	h := Hit{ID: dm.ID, Score: dm.Score}
	str := func(name string) string {
		s, _ := dm.Fields[name].(string)
		return s
	}
	h.Register = str(kwRegister)
	h.Year, _ = strconv.Atoi(str(kwYear))
	if n, ok := dm.Fields[numNumber].(float64); ok {
		h.Number = int(n)
	}
	h.Date = str(kwDate)
	h.Subject = str(fieldSubject)
	h.Status, h.From, h.To, h.ReplyDue = str(kwStatus), str(fieldFrom), str(fieldTo), str(kwReplyDue)
	if m != nil && !m.empty() {
		h.Highlights = ix.highlights(dm, m, stems)
	}
	return h
}

// fieldValues returns the stored values of a field, indexed by array position.
func fieldValues(v interface{}) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []interface{}:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, _ := e.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

// highlights builds the fragments of every field in which the hit matched.
func (ix *Index) highlights(dm *search.DocumentMatch, m *marks, stems *spanCache) map[string][]string {
	out := map[string][]string{}
	budget := highlightBudget
	for _, f := range textFields {
		var frags []string
		for _, v := range fieldValues(dm.Fields[f]) {
			if budget <= 0 {
				break
			}
			budget -= min(len(v), highlightScan)
			if spans := ix.an.matchSpans(v, m, stems); len(spans) > 0 {
				frags = append(frags, fragments(v, spans)...)
			}
		}
		if len(frags) > 0 {
			out[f] = frags
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

type span struct{ start, end int }

// pairsPhrase matches the stems of slots (one slot per position, a slot
// holding a word's stems) in this order. Each two adjacent words are one
// term of the pairs field (see pairsOf): two words need nothing else; more
// need the pairs and, to be sure they form one run, the phrase itself,
// which Bleve then checks only where the pairs all occur. A stop word inside
// the phrase (an empty slot) leaves the phrase alone to decide.
func pairsPhrase(slots [][]string) query.Query {
	var pairs []query.Query
	for i := 0; i+1 < len(slots); i++ {
		var alts []query.Query
		for _, a := range slots[i] {
			for _, b := range slots[i+1] {
				alts = append(alts, termQuery(fieldPairs, a+pairSep+b))
			}
		}
		switch len(alts) {
		case 0:
			return query.NewMultiPhraseQuery(slots, fieldAll)
		case 1:
			pairs = append(pairs, alts[0])
		default:
			pairs = append(pairs, query.NewDisjunctionQuery(alts))
		}
	}
	if len(pairs) == 1 {
		return pairs[0]
	}
	return query.NewConjunctionQuery(append(pairs, query.NewMultiPhraseQuery(slots, fieldAll)))
}
