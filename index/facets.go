package index

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/collector"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// facetCache counts the register, year and committee facets of a search,
// and leaves out the restricted records a caller may not see, from a table
// per index segment giving each document's kwFacets term as a small code.
// Bleve's own facets read the doc values of every match, which was most of
// the cost of a search for a common word, and excluding restricted records
// in the query cost another 40%; a segment never changes once written, so
// its table is made once (the first search that meets the segment pays for
// it) and a match then costs one array read.
type facetCache struct {
	mu         sync.Mutex
	ids        map[string]uint32 // kwFacets term -> code; code 0 is "no term"
	terms      []string          // code -> term
	restricted []bool            // code -> the term's records are restricted
	segs       map[segment.Segment]*segFacets
}

// segFacets is the table of one segment: the code of each local document.
type segFacets struct {
	once  sync.Once
	codes []uint32
	err   error
}

func newFacetCache() *facetCache {
	// A document without a term is taken for restricted: if the table
	// cannot say, the record is not shown.
	return &facetCache{ids: map[string]uint32{"": 0}, terms: []string{""}, restricted: []bool{true},
		segs: map[segment.Segment]*segFacets{}}
}

// table returns the table of seg, making it if need be.
func (fc *facetCache) table(seg segment.Segment) ([]uint32, error) {
	fc.mu.Lock()
	sf := fc.segs[seg]
	if sf == nil {
		sf = &segFacets{}
		fc.segs[seg] = sf
	}
	fc.mu.Unlock()
	sf.once.Do(func() { sf.codes, sf.err = fc.build(seg) })
	return sf.codes, sf.err
}

// build reads the kwFacets doc value of every document of seg.
func (fc *facetCache) build(seg segment.Segment) ([]uint32, error) {
	dvv, ok := seg.(segment.DocValueVisitable)
	if !ok {
		return nil, fmt.Errorf("index: facets: segment %T has no doc values", seg)
	}
	n := seg.Count()
	codes := make([]uint32, n)
	local := map[string]uint32{}
	var localTerms []string
	fields := []string{kwFacets}
	var state segment.DocVisitState
	var doc uint64
	visit := func(field string, term []byte) {
		id, ok := local[string(term)]
		if !ok {
			localTerms = append(localTerms, string(term))
			id = uint32(len(localTerms))
			local[string(term)] = id
		}
		codes[doc] = id
	}
	for doc = 0; doc < n; doc++ {
		var err error
		if state, err = dvv.VisitDocValues(doc, fields, visit, state); err != nil {
			return nil, fmt.Errorf("index: facets: doc values of document %d: %w", doc, err)
		}
	}
	// Local codes (1-based, 0 none) become the cache's codes.
	global := make([]uint32, len(localTerms)+1)
	fc.mu.Lock()
	for i, t := range localTerms {
		id, ok := fc.ids[t]
		if !ok {
			id = uint32(len(fc.terms))
			fc.ids[t] = id
			fc.terms = append(fc.terms, t)
			// Anything but a plain "0" flag is restricted.
			fc.restricted = append(fc.restricted, !strings.HasSuffix(t, facetSep+"0"))
		}
		global[i+1] = id
	}
	fc.mu.Unlock()
	for i, c := range codes {
		codes[i] = global[c]
	}
	return codes, nil
}

// facetCounts are the counts of one search of one index, by kwFacets
// code, and its total of matches the caller may see.
type facetCounts struct {
	counts []int
	terms  []string // code -> term, as of the search
	total  uint64
}

// facetCollector gathers the counts of a search: one facetCounts per index
// searched (a search through an alias of several parts runs one search per
// part, at once).
type facetCollector struct {
	mu   sync.Mutex
	runs []*facetCounts
}

func (fc *facetCollector) add() *facetCounts {
	c := &facetCounts{}
	fc.mu.Lock()
	fc.runs = append(fc.runs, c)
	fc.mu.Unlock()
	return c
}

// sum returns the total of every run and the non-zero counts by kwFacets
// term. Call it once the search has returned.
func (fc *facetCollector) sum() (uint64, map[string]int) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	var total uint64
	out := map[string]int{}
	for _, c := range fc.runs {
		total += c.total
		for code, n := range c.counts {
			if n > 0 && code > 0 {
				out[c.terms[code]] += n
			}
		}
	}
	return total, out
}

// handlerMaker returns a Bleve document match handler maker that, for
// every match, drops it if it is restricted (unless seeConfidential) or not
// in the tables, and otherwise counts it into a new run of col and hands it to
// the usual top-N handler. It is put in the search's context under
// search.MakeDocumentMatchHandlerKey, where every index searched finds it.
func (fc *facetCache) handlerMaker(col *facetCollector, seeConfidential bool) search.MakeDocumentMatchHandler {
	return func(sctx *search.SearchContext) (search.DocumentMatchHandler, bool, error) {
		c := col.add()
		next, loadID, err := collector.MakeTopNDocumentMatchHandler(sctx)
		if err != nil {
			return nil, false, err
		}
		snap, ok := sctx.IndexReader.(*scorch.IndexSnapshot)
		if !ok {
			return nil, false, fmt.Errorf("index: facets: reader %T is not a scorch snapshot", sctx.IndexReader)
		}
		segs := snap.Segments()
		// Global document numbers run through the segments in order, each
		// segment taking as many as it has documents, deleted or not (as
		// Bleve's scorch computes them).
		offsets := make([]uint64, len(segs))
		tables := make([][]uint32, len(segs))
		var running uint64
		live := make(map[segment.Segment]bool, len(segs))
		for i, ss := range segs {
			seg := ss.Segment()
			offsets[i] = running
			running += seg.Count()
			if tables[i], err = fc.table(seg); err != nil {
				return nil, false, err
			}
			live[seg] = true
		}
		fc.mu.Lock()
		c.terms = fc.terms
		c.counts = make([]int, len(fc.terms))
		restricted := fc.restricted[:len(fc.terms)]
		if len(fc.segs) > 2*len(segs)+8 {
			for seg := range fc.segs {
				if !live[seg] {
					delete(fc.segs, seg)
				}
			}
		}
		fc.mu.Unlock()
		// Matches mostly come in document order: the segment of the last
		// one is tried first.
		cur, lo, hi := -1, uint64(1), uint64(0)
		return func(d *search.DocumentMatch) error {
			if d == nil {
				return next(d)
			}
			code := uint32(0) // not found: restricted
			// An internal id is the global document number, 8 bytes big-endian.
			if len(d.IndexInternalID) == 8 {
				g := binary.BigEndian.Uint64(d.IndexInternalID)
				if g < lo || g >= hi {
					cur = sort.Search(len(offsets), func(i int) bool { return offsets[i] > g }) - 1
					lo, hi = 1, 0
					if cur >= 0 {
						lo, hi = offsets[cur], offsets[cur]+uint64(len(tables[cur]))
					}
				}
				if g >= lo && g < hi {
					code = tables[cur][g-lo]
				}
			}
			if restricted[code] && !seeConfidential {
				sctx.DocumentMatchPool.Put(d)
				return nil
			}
			c.counts[code]++
			c.total++
			return next(d)
		}, loadID, nil
	}
}
