package dns

import (
	"math"
	"math/bits"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/sdnli/sdnli/internal/ascii"
	"github.com/sdnli/sdnli/irs/event"
)

// Tunnel detection thresholds. A (client address, base domain) pair is
// suspected when, within tunWindow, any of these holds:
//
//   - tunHighLabels distinct subdomains carry a label of at least
//     tunLongLabel bytes whose Shannon entropy is at least tunEntropy bits
//     per byte, or a label with bytes outside letters, digits, '-' and
//     '_' (binary-encoded data, as iodine sends);
//   - tunUnique distinct subdomains were asked whose longest labels
//     average at least tunAvgLabel bytes (DNS blocklists ask many names
//     of short labels and stay out);
//   - tunTxtNull TXT or NULL queries with at least tunTxtNullUnique
//     distinct subdomains (the record types tunnels use downstream).
//
// Only distinct names count towards the label tests: a long random-looking
// cloud host name asked again and again is one name, a tunnel never asks
// the same name twice. Ordinary traffic stays well below: host labels are
// short, CDN hash labels stay under 24 bytes, and a browser asks a few
// dozen names of one domain. Reverse lookups (*.arpa) are left out.
const (
	tunWindow        = 10 * time.Minute
	tunQuiet         = 30 * time.Minute // after this silence an entry starts over
	tunLongLabel     = 24
	tunEntropy       = 3.5
	tunHighLabels    = 10
	tunUnique        = 100
	tunAvgLabel      = 20
	tunTxtNull       = 20
	tunTxtNullUnique = 10
	tunMaxEntries    = 4096    // pairs tracked
	tunMaxNames      = 2048    // distinct subdomains remembered per pair
	tunNameBudget    = 1 << 20 // distinct subdomains remembered over all pairs
	tunSamples       = 5
)

type tunKey struct {
	client netip.Addr
	base   string
}

type tunEntry struct {
	key         tunKey
	first, last time.Time
	queries     int
	unique      int
	names       map[uint64]struct{} // hashes of the distinct subdomains
	highEnt     int                 // long high-entropy labels
	nonLDH      int                 // labels with binary bytes
	txtNull     int
	longestSum  int // sum over distinct names of their longest label
	maxLabel    int
	entSum      float64
	entN        int
	samples     []string
	reported    bool
}

// tunnelTable is shared by all flows; the mutex guards it.
type tunnelTable struct {
	mu    sync.Mutex
	m     map[tunKey]*tunEntry
	fifo  []*tunEntry
	names int // names remembered over all entries
}

func newTunnelTable() *tunnelTable { return &tunnelTable{m: map[tunKey]*tunEntry{}} }

// baseDomain splits a name into its base domain (the last two labels, or
// three under a two-letter country code with a generic second level such
// as co.uk) and the subdomain labels before it. There is no public
// suffix list in the IRS; this heuristic errs towards longer bases.
func baseDomain(labels [][]byte) (string, [][]byte) { return baseDomainOf("", labels) }

// baseDomainOf is baseDomain for the labels of name (as rendered): when
// name ends in the base domain as baseDomain renders it (lower case, as
// almost every name is), the base is that tail of name rather than a new
// string.
func baseDomainOf(name string, labels [][]byte) (string, [][]byte) {
	n := 2
	if len(labels) >= 3 {
		tld := labels[len(labels)-1]
		if len(tld) == 2 && genericSLD(labels[len(labels)-2]) {
			n = 3
		}
	}
	var sub [][]byte
	if len(labels) > n {
		labels, sub = labels[len(labels)-n:], labels[:len(labels)-n]
	}
	var scratch [256]byte
	base := appendLowerJoin(scratch[:0], labels)
	if len(base) <= len(name) {
		if tail := name[len(name)-len(base):]; tail == string(base) {
			return tail, sub
		}
	}
	return string(base), sub
}

// genericSLD reports a generic second-level label such as "co" (of
// co.uk), compared as strings.ToLower would.
func genericSLD(l []byte) bool {
	var sld string
	if isASCII(l) {
		// ASCII-only folding is what strings.ToLower does on ASCII,
		// without copying the label
		if len(l) > 3 {
			return false
		}
		var low [3]byte
		for i, c := range l {
			low[i] = ascii.Lower(c)
		}
		sld = string(low[:len(l)])
	} else {
		sld = strings.ToLower(string(l))
	}
	switch sld {
	case "co", "com", "net", "org", "gov", "edu", "ac", "or", "ne", "go", "gob", "mil":
		return true
	}
	return false
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// lowerJoin is strings.ToLower(joinLabels(labels)) in one allocation:
// the rendered name is ASCII (appendLabel escapes every other byte), on
// which strings.ToLower only folds A-Z.
func lowerJoin(labels [][]byte) string {
	var scratch [256]byte
	return string(appendLowerJoin(scratch[:0], labels))
}

// appendLowerJoin appends lowerJoin's string to dst.
func appendLowerJoin(dst []byte, labels [][]byte) []byte {
	start := len(dst)
	for i, l := range labels {
		if i > 0 {
			dst = append(dst, '.')
		}
		dst = appendLabel(dst, l)
	}
	for i, c := range dst[start:] {
		dst[start+i] = ascii.Lower(c)
	}
	return dst
}

func joinLabels(labels [][]byte) string {
	var buf []byte
	for i, l := range labels {
		if i > 0 {
			buf = append(buf, '.')
		}
		buf = appendLabel(buf, l)
	}
	return string(buf)
}

// entropy is the Shannon entropy of b in bits per byte. The terms are
// summed in byte-value order; for a label (at most 63 bytes) they come
// from entropyTerms rather than math.Log2, with identical results.
func entropy(b []byte) float64 {
	if len(b) == 0 {
		return 0
	}
	h := 0.0
	if len(b) < len(entropyTerms) {
		// a label: byte counts fit a byte, and only the values present
		// are visited, in increasing order as below
		var freq [256]uint8
		var seen [4]uint64
		for _, c := range b {
			freq[c]++
			seen[c>>6] |= 1 << (c & 63)
		}
		t := &entropyTerms[len(b)]
		for w, m := range seen {
			for m != 0 {
				c := w<<6 | bits.TrailingZeros64(m)
				m &= m - 1
				h -= t[freq[c]]
			}
		}
		return h
	}
	var freq [256]int
	for _, c := range b {
		freq[c]++
	}
	n := float64(len(b))
	for _, k := range freq {
		if k > 0 {
			p := float64(k) / n
			h -= float64(p * math.Log2(p)) // rounded, as in entropyTerms
		}
	}
	return h
}

// entropyTerms[n][k] is p·log2(p) for p = k/n, computed exactly as entropy
// computes it, for every byte count a DNS label can have: the tunnel
// statistics take the entropy of labels of every distinct name, and
// math.Log2 was most of that cost.
var entropyTerms = func() (t [64][64]float64) {
	for n := 1; n < len(t); n++ {
		for k := 1; k <= n; k++ {
			p := float64(k) / float64(n)
			// float64() rounds the product, so that no platform fuses
			// it with entropy's subtraction (Go may use FMA otherwise)
			t[n][k] = float64(p * math.Log2(p))
		}
	}
	return
}()

func ldh(b []byte) bool {
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// observe accounts one query and returns a tunnel event the first time a
// pair crosses a threshold.
func (t *tunnelTable) observe(client netip.Addr, qs []question, ts time.Time) *event.Event {
	if len(qs) == 0 {
		return nil
	}
	q := qs[0]
	base, sub := baseDomainOf(q.name, q.labels)
	if strings.HasSuffix(base, "arpa") || base == "" {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	k := tunKey{client, base}
	e := t.m[k]
	if e != nil && (ts.Sub(e.last) > tunQuiet || (!e.reported && ts.Sub(e.first) > tunWindow)) {
		t.drop(e)
		e = nil
	}
	if e == nil {
		e = &tunEntry{key: k, first: ts, names: map[uint64]struct{}{}}
		t.insert(e)
	}
	e.last = ts
	e.queries++
	if q.qtype == 16 || q.qtype == 10 {
		e.txtNull++
	}
	if len(sub) > 0 {
		name := nameHash(sub)
		if _, seen := e.names[name]; !seen && e.unique < 1<<30 {
			// a name remembered is not counted twice; past the caps
			// every name counts as new, which only errs towards
			// suspicion on traffic that is already extreme
			e.unique++
			if len(e.names) < tunMaxNames && t.names < tunNameBudget {
				e.names[name] = struct{}{}
				t.names++
			}
			var longest []byte
			high, bin := false, false
			for _, l := range sub {
				if len(l) > len(longest) {
					longest = l
				}
				if !ldh(l) {
					bin = true
				}
				if len(l) >= tunLongLabel && entropy(l) >= tunEntropy {
					high = true
				}
			}
			e.longestSum += len(longest)
			e.maxLabel = max(e.maxLabel, len(longest))
			e.entSum += entropy(longest)
			e.entN++
			if high {
				e.highEnt++
			}
			if bin {
				e.nonLDH++
			}
			if (high || bin) && len(e.samples) < tunSamples {
				e.samples = append(e.samples, clip(q.name, 120))
			}
		}
	}
	if e.reported {
		return nil
	}
	var why []string
	if e.highEnt+e.nonLDH >= tunHighLabels {
		why = append(why, "long high-entropy or binary subdomain labels")
	}
	if e.unique >= tunUnique && e.longestSum/e.unique >= tunAvgLabel {
		why = append(why, "many unique long subdomains")
	}
	if e.txtNull >= tunTxtNull && e.unique >= tunTxtNullUnique {
		why = append(why, "TXT/NULL query volume with varying names")
	}
	if len(why) == 0 {
		return nil
	}
	e.reported = true
	meanEnt := 0.0
	if e.entN > 0 {
		meanEnt = math.Round(e.entSum/float64(e.entN)*100) / 100
	}
	return &event.Event{Type: TypeTunnel, Start: e.first, End: ts, Subject: base,
		Summary: event.Fields{
			{Key: "base_domain", Value: base}, {Key: "client", Value: client.String()}, {Key: "reasons", Value: why},
			{Key: "queries", Value: e.queries}, {Key: "unique_subdomains", Value: e.unique},
			{Key: "high_entropy_labels", Value: e.highEnt}, {Key: "binary_labels", Value: e.nonLDH}, {Key: "txt_null_queries", Value: e.txtNull},
			{Key: "max_label_len", Value: e.maxLabel}, {Key: "mean_label_entropy", Value: meanEnt}, {Key: "samples", Value: e.samples},
			{Key: "thresholds", Value: map[string]any{"window_s": tunWindow.Seconds(), "long_label": tunLongLabel,
				"entropy_bits": tunEntropy, "high_labels": tunHighLabels, "unique": tunUnique,
				"avg_longest_label": tunAvgLabel, "txt_null": tunTxtNull}},
		}}
}

func (t *tunnelTable) insert(e *tunEntry) {
	for len(t.m) >= tunMaxEntries && len(t.fifo) > 0 {
		old := t.fifo[0]
		t.fifo[0] = nil
		t.fifo = t.fifo[1:]
		t.drop(old)
	}
	t.m[e.key] = e
	t.fifo = append(t.fifo, e)
	if len(t.fifo) > 2*tunMaxEntries {
		live := t.fifo[:0]
		for _, x := range t.fifo {
			if t.m[x.key] == x {
				live = append(live, x)
			}
		}
		clear(t.fifo[len(live):])
		t.fifo = live
	}
}

func (t *tunnelTable) drop(e *tunEntry) {
	if t.m[e.key] == e {
		delete(t.m, e.key)
		t.names -= len(e.names)
	}
}

// nameHash is the 64-bit FNV-1a hash of the subdomain's labels joined by
// dots, with ASCII letters lower-cased (labels are bytes, not text),
// computed in place rather than through hash/fnv on a lowered copy.
func nameHash(labels [][]byte) uint64 {
	const (
		offset64 = 14695981039346656037
		prime64  = 1099511628211
	)
	h := uint64(offset64)
	for i, l := range labels {
		if i > 0 {
			h ^= '.'
			h *= prime64
		}
		for _, c := range l {
			h ^= uint64(ascii.Lower(c))
			h *= prime64
		}
	}
	return h
}
