package index

import (
	"strconv"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/mapping"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/sijill/sijill/archive"
)

// MappingVersion names the shape of the index: fields, analysers and their
// chains. Any change to them must change it, so that Open notices an index
// built the old way and has it rebuilt.
const MappingVersion = "sijill-15"

// mappingVersionKey is where the version lives in the index's internal store.
var mappingVersionKey = []byte("sijill_mapping_version")

// Field names. The text of a record (subject, body, parties, committee,
// tags, attachments) is joined into one text, with a position gap between
// fields so phrases do not run across them, and indexed twice: "exact" with
// the exact analyser and "all" with the stemmed one. Each field is stored on
// its own, unindexed, for hits and highlights. Filters, facets and sorting use
// the keyword ("k.") and numeric ("n.") fields.
const (
	fieldAll         = "all"      // stemmed text of every text field
	fieldExact       = "exact"    // exact text of every text field
	fieldPairs       = "pairs"    // adjacent stems of "all", two by two (see pairsOf)
	fieldPrefixes    = "prefixes" // the first letters of every word and stem (see prefixesOf)
	fieldSubject     = "subject"
	fieldBody        = "body"
	fieldFrom        = "from"
	fieldTo          = "to"
	fieldCommittee   = "committee"
	fieldTags        = "tags"
	fieldReference   = "reference"
	fieldAttendees   = "attendees"
	fieldApologies   = "apologies"
	fieldAgenda      = "agenda"
	fieldAttachments = "attachments"

	kwRegister        = "k.register"
	kwYear            = "k.year"
	kwDate            = "k.date"
	kwCommittee       = "k.committee"
	kwTag             = "k.tag"
	kwStatus          = "k.status"
	kwReplyDue        = "k.replydue" // the day an incoming letter needs its answer by
	kwConfidentiality = "k.confidentiality"
	// kwFacets holds register, year, committee and whether the record is
	// restricted ("1" or "0") joined by facetSep as a single term (see
	// facetTerm), so that counting facets and leaving out restricted records
	// read one doc value per match (see facetCache).
	kwFacets = "k.facets"
	// kwLink holds the IDs a record points at (InReplyTo, Refs, Meeting), so
	// a record's thread is found by asking which records point at it.
	kwLink    = "k.link"
	numNumber = "n.number"
	// kwVersion is what the document was built from (see versionTerm).
	kwVersion = "k.ver"
)

// facetSep separates the parts of a kwFacets term; it cannot occur in a
// register, a year or (control character) a committee's name worth counting.
const facetSep = "\x1f"

// facetTerm is the kwFacets term of rec.
func facetTerm(rec *archive.Record, restricted bool) string {
	r := "0"
	if restricted {
		r = "1"
	}
	return string(rec.Register) + facetSep + strconv.Itoa(rec.Year) + facetSep +
		strings.ReplaceAll(rec.Committee, facetSep, " ") + facetSep + r
}

// textFields are the searchable text fields, in the order highlights are shown.
var textFields = []string{fieldSubject, fieldBody, fieldFrom, fieldTo, fieldCommittee, fieldTags,
	fieldReference, fieldAttendees, fieldApologies, fieldAgenda, fieldAttachments}

const (
	optStored  = bindex.StoreField
	optExact   = bindex.IndexField                             // prefixes and pairs only
	optText    = bindex.IndexField | bindex.IncludeTermVectors // positions, for phrases
	optKeyword = bindex.IndexField | bindex.StoreField | bindex.DocValues
	optFacets  = bindex.IndexField | bindex.DocValues
)

// newMapping is the index mapping. Documents are built by buildDocument, not
// mapped from structs, so the mapping only names the default analyser; it is
// stored in the index all the same, with the analyser names in it.
func newMapping() mapping.IndexMapping {
	im := bleve.NewIndexMapping()
	im.DefaultAnalyzer = StemmedAnalyzerName
	im.DefaultMapping.Dynamic = false
	im.IndexDynamic = false
	im.StoreDynamic = false
	im.DocValuesDynamic = false
	return im
}

// buildDocument turns a record and the text of its attachments into one
// Bleve document.
func (a *textAnalyzers) buildDocument(rec *archive.Record, texts []string, v docVersion) *document.Document {
	doc := document.NewDocument(rec.ID)
	var all strings.Builder
	text := func(name string, pos []uint64, value string) {
		if value == "" {
			return
		}
		doc.AddField(document.NewTextFieldCustom(name, pos, []byte(value), optStored, nil))
		if all.Len() > 0 {
			all.WriteRune(fieldGap)
		}
		all.WriteString(value)
	}
	keyword := func(name string, pos []uint64, value string) {
		doc.AddField(document.NewTextFieldCustom(name, pos, []byte(value), optKeyword, nil))
	}
	text(fieldSubject, nil, rec.Subject)
	// The subject counts twice, so a record about a word ranks above one
	// that mentions it in passing.
	if rec.Subject != "" {
		all.WriteRune(fieldGap)
		all.WriteString(rec.Subject)
	}
	text(fieldBody, nil, rec.Body)
	text(fieldFrom, nil, rec.From)
	text(fieldTo, nil, rec.To)
	text(fieldCommittee, nil, rec.Committee)
	for i, tag := range rec.Tags {
		text(fieldTags, []uint64{uint64(i)}, tag)
		keyword(kwTag, []uint64{uint64(i)}, tag)
	}
	text(fieldReference, nil, rec.Reference)
	list := func(name string, values []string) {
		for i, v := range values {
			text(name, []uint64{uint64(i)}, v)
		}
	}
	list(fieldAttendees, rec.Attendees)
	list(fieldApologies, rec.Apologies)
	list(fieldAgenda, rec.Agenda)
	list(fieldAttachments, texts)
	joined := []byte(all.String())
	da := &docAnalysis{an: a, text: joined}
	doc.AddField(document.NewTextFieldCustom(fieldExact, nil, joined, optExact, exactStream{da}))
	doc.AddField(document.NewTextFieldCustom(fieldAll, nil, joined, optText, stemmedStream{da}))
	doc.AddField(document.NewTextFieldCustom(fieldPairs, nil, joined, optExact, pairStream{da}))
	doc.AddField(document.NewTextFieldCustom(fieldPrefixes, nil, joined, optExact, prefixStream{da}))

	keyword(kwRegister, nil, string(rec.Register))
	keyword(kwYear, nil, strconv.Itoa(rec.Year))
	if rec.Date != "" {
		keyword(kwDate, nil, rec.Date)
	}
	if rec.Committee != "" {
		keyword(kwCommittee, nil, rec.Committee)
	}
	if rec.ReplyDue != "" {
		keyword(kwReplyDue, nil, rec.ReplyDue)
	}
	status := rec.Status
	if status == "" {
		status = archive.StatusActive
	}
	keyword(kwStatus, nil, status)
	conf := rec.Confidentiality
	if conf == "" {
		conf = archive.Normal
	}
	keyword(kwConfidentiality, nil, conf)
	doc.AddField(document.NewTextFieldCustom(kwFacets, nil, []byte(facetTerm(rec, conf != archive.Normal)), optFacets, nil))
	doc.AddField(document.NewNumericFieldWithIndexingOptions(numNumber, nil, float64(rec.Number), optKeyword))
	for i, id := range append([]string{rec.InReplyTo, rec.Meeting}, rec.Refs...) {
		if id != "" {
			keyword(kwLink, []uint64{uint64(i)}, id)
		}
	}
	doc.AddField(document.NewTextFieldCustom(kwVersion, nil, []byte(versionTerm(rec.ID, v)), optFacets, nil))

	return doc
}
