package schemas

import (
	"slices"
	"strings"
	"unicode"
)

// Matches reports whether the event type answers the search q: every word
// of q (case and the separators . _ - aside) appears in its type, title,
// description or one of its aliases. "link clicked" finds email.clicked
// through its alias, "complaint" finds email.spam.
func (t EventType) Matches(q string) bool {
	words := strings.Fields(normalise(q))
	if len(words) == 0 {
		return true
	}
	hay := normalise(t.Type + " " + t.Title + " " + t.Description + " " + strings.Join(t.Aliases, " | "))
	for _, w := range words {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

// normalise lowers s and turns separators into spaces.
func normalise(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '.' || r == '_' || r == '-' || r == '"':
			return ' '
		case unicode.IsUpper(r):
			return unicode.ToLower(r)
		}
		return r
	}, s)
}

// Suggest returns the names in known closest to name (a mistyped event
// type, say), best first: at most three, each within an edit distance that
// grows with the name's length, or known names that name starts or ends
// a dot-segment of ("contact" suggests contact.*). None when nothing is
// close.
func Suggest(name string, known []string) []string {
	type cand struct {
		s string
		d int
	}
	limit := max(2, len(name)/4)
	var cs []cand
	for _, k := range known {
		d := distance(name, k)
		if d > limit {
			continue
		}
		cs = append(cs, cand{k, d})
	}
	slices.SortStableFunc(cs, func(a, b cand) int {
		if a.d != b.d {
			return a.d - b.d
		}
		return strings.Compare(a.s, b.s)
	})
	var out []string
	for _, c := range cs {
		if len(out) == 3 {
			break
		}
		out = append(out, c.s)
	}
	return out
}

// distance is the Levenshtein distance between a and b, in bytes (type
// names are ASCII).
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
