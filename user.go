package parley

import (
	"strings"
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
		return CodeErrorf(Invalid, CodeInvalidNick, "Nickname is required.")
	case !utf8.ValidString(nick):
		return CodeErrorf(Invalid, CodeInvalidNick, "Nickname is not valid UTF-8.")
	case utf8.RuneCountInString(nick) > MaxNickLen:
		return CodeErrorf(Invalid, CodeInvalidNick, "Nickname is longer than %d characters.", MaxNickLen)
	case strings.TrimSpace(nick) != nick:
		return CodeErrorf(Invalid, CodeInvalidNick, "Nickname must not start or end with a space.")
	case strings.Contains(nick, "  "):
		return CodeErrorf(Invalid, CodeInvalidNick, "Nickname must not contain two spaces in a row.")
	case !printable(nick):
		return CodeErrorf(Invalid, CodeInvalidNick, "Nickname may contain only printable characters.")
	}
	return nil
}
