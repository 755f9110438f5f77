package parley

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNickLen is the longest nickname, in characters.
const MaxNickLen = 32

// ValidateNick reports whether nick can be used as a nickname: 1 to
// MaxNickLen letters, digits, marks, punctuation or symbols (and joiners
// inside emoji, see printable), with single inner spaces allowed but no
// leading or trailing space.
func ValidateNick(nick string) error {
	switch {
	case nick == "":
		return CodeErrorf(Invalid, "invalid_nick", "Nickname is required.")
	case !utf8.ValidString(nick):
		return CodeErrorf(Invalid, "invalid_nick", "Nickname is not valid UTF-8.")
	case utf8.RuneCountInString(nick) > MaxNickLen:
		return CodeErrorf(Invalid, "invalid_nick", "Nickname is longer than %d characters.", MaxNickLen)
	case strings.TrimSpace(nick) != nick:
		return CodeErrorf(Invalid, "invalid_nick", "Nickname must not start or end with a space.")
	case strings.Contains(nick, "  "):
		return CodeErrorf(Invalid, "invalid_nick", "Nickname must not contain two spaces in a row.")
	case !printable(nick):
		return CodeErrorf(Invalid, "invalid_nick", "Nickname may contain only printable characters.")
	}
	return nil
}

// zeroWidthJoiner joins emoji into one: 👩 and 💻 into 👩‍💻.
const zeroWidthJoiner = '\u200d'

// printable reports whether s holds only what unicode.IsPrint calls
// printable, and zero-width joiners between two emoji, as in 👩‍💻 or 🏳️‍🌈.
// Anywhere else a joiner is invisible, and would let two names that look
// the same differ.
func printable(s string) bool {
	prev := rune(-1)
	for i, r := range s {
		if r == zeroWidthJoiner {
			next, n := utf8.DecodeRuneInString(s[i+utf8.RuneLen(r):])
			if !emojiBefore(prev) || n == 0 || !unicode.Is(unicode.So, next) {
				return false
			}
		} else if !unicode.IsPrint(r) {
			return false
		}
		prev = r
	}
	return true
}

// emojiBefore reports whether r may end an emoji that a zero-width joiner
// continues: a symbol (👩), a skin tone (🏽) or the emoji presentation
// selector U+FE0F (after 🏳 in 🏳️‍🌈).
func emojiBefore(r rune) bool {
	return unicode.Is(unicode.So, r) || unicode.Is(unicode.Sk, r) || r == '\ufe0f'
}
