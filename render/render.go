// Package render prints Sijill's registers as PDF: the yearly register book
// (Book) and a single record in the layout of an official letter or decision
// (RecordPrint).
//
// fpdf, which writes the PDF, draws code points one after another from left to
// right and knows nothing of Arabic. This package therefore does what a text
// shaping engine would, before any text reaches fpdf:
//
//  1. shape: each Arabic letter becomes the presentation form (isolated,
//     initial, medial, final) its neighbours call for, lam + alef the lam-alef
//     ligature; harakat are transparent. Tables are generated from the Unicode
//     Character Database (go generate, internal/gen).
//  2. wrap the logical (typed-order) text into lines, measured on the shaped
//     glyphs' advances in the embedded Amiri font.
//  3. reorder each line for display by the Unicode bidi algorithm (UAX #9):
//     levels from go-text's implementation, then rules L1 and L2, mirroring of
//     brackets and «» at right-to-left levels, marks kept after their base.
//
// Pages are laid out from the right; dates are printed year first with
// slashes (2020/12/07), which the bidi algorithm keeps in order beside Arabic.
package render
