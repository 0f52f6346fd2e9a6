package mailparse

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// SubjectTags finds RT ticket numbers in subject tags such as
// "[rt.example.com #123]", the way RT does: the tag name is one of the
// configured rtnames or matches a regular expression (RT's
// $EmailSubjectTagRegex), optionally preceded by http(s)://, case-insensitive.
type SubjectTags struct {
	re *regexp.Regexp
}

// NewSubjectTags builds a matcher for rtNames (literal) and nameRegexps
// (regular expressions for the name part, e.g. `rt\.example\.(com|org)`).
func NewSubjectTags(rtNames, nameRegexps []string) (*SubjectTags, error) {
	var alts []string
	for _, n := range rtNames {
		if n = strings.TrimSpace(n); n != "" {
			alts = append(alts, regexp.QuoteMeta(n))
		}
	}
	for _, r := range nameRegexps {
		if _, err := regexp.Compile(r); err != nil {
			return nil, fmt.Errorf("mailparse: subject tag regexp %q: %w", r, err)
		}
		alts = append(alts, "(?:"+r+")")
	}
	if len(alts) == 0 {
		return nil, fmt.Errorf("mailparse: subject tags need at least one rtname or regexp")
	}
	re, err := regexp.Compile(`(?i)\[(?:https?://)?(?:` + strings.Join(alts, "|") + `)\s+#(\d+)\s*\]`)
	if err != nil {
		return nil, fmt.Errorf("mailparse: subject tag pattern: %w", err)
	}
	return &SubjectTags{re: re}, nil
}

// Tickets returns the ticket numbers tagged in subject, first tag first,
// without repeats.
func (s *SubjectTags) Tickets(subject string) []int {
	var out []int
	seen := map[int]bool{}
	for _, m := range s.re.FindAllStringSubmatch(subject, -1) {
		id, err := strconv.Atoi(m[len(m)-1])
		if err != nil || id <= 0 || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, id)
	}
	return out
}

// Ticket returns the first tagged ticket number, as RT uses it.
func (s *SubjectTags) Ticket(subject string) (int, bool) {
	ids := s.Tickets(subject)
	if len(ids) == 0 {
		return 0, false
	}
	return ids[0], true
}
