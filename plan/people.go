package plan

import "strings"

// maxAddress is RFC 5321's limit on a forward path.
const maxAddress = 254

// PlainAddress reports whether s is a plain address, the only form a
// step's people lists (requestors, Cc, AdminCc, Bcc) may hold: a dot-atom
// local part (RFC 5322 atext, dots neither leading, trailing nor doubled),
// one @, and a domain of letters, digits, hyphens and dots. Quotes,
// brackets, commas, semicolons, colons and spaces are refused: RT reads
// those as a second person, a group ("group:Staff") or an RT user
// ("g:…"), which no mail sender may choose.
func PlainAddress(s string) bool {
	if len(s) > maxAddress {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	return ok && dotted(local, isAtext) && dotted(domain, isDomainChar)
}

// dotted reports whether s is one or more non-empty runs of ok characters
// joined by single dots.
func dotted(s string, ok func(byte) bool) bool {
	if s == "" {
		return false
	}
	for part := range strings.SplitSeq(s, ".") {
		if part == "" {
			return false
		}
		for i := 0; i < len(part); i++ {
			if !ok(part[i]) {
				return false
			}
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// isAtext is RFC 5322's atext.
func isAtext(c byte) bool { return isAlnum(c) || strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0 }

func isDomainChar(c byte) bool { return isAlnum(c) || c == '-' }
